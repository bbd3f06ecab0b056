/**
 * Test doubles for the whole project (tests only; never imported by shipping code):
 * - the fake `claude` CLI ({@linkcode FAKE_CLAUDE_BIN}, scenarios built with {@linkcode fakePrompt});
 * - the mock Anthropic Messages API ({@linkcode startMockAnthropic});
 * - helpers that run the REAL `claude` against the mock ({@linkcode runRealClaudeTurn});
 * - a streamable-HTTP MCP server ({@linkcode startFakeMcp}, {@linkcode fakeMcpHandler});
 * - a fault-injecting layer below SQLite (LD_PRELOAD): failing writes, power loss
 *   ({@linkcode buildFaultShim}, {@linkcode applyPowerLoss}).
 * @module
 */

/** Absolute path of the executable fake `claude` wrapper (`bin/claude`). */
export const FAKE_CLAUDE_BIN: string = decodeURIComponent(
  new URL("./bin/claude", import.meta.url).pathname,
);

export * from "./fake_scenario.ts";
export * from "./mock_anthropic.ts";
export * from "./real_claude.ts";
export * from "./fake_mcp.ts";
export * from "./git.ts";
export * from "./soak.ts";
export * from "./fault_fs.ts";
