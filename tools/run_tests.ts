/**
 * `deno task test`: makes sure the pinned claude CLI is available (installing it from npm into
 * `.ci/out/claude` when the one on PATH is missing or another version), then runs the whole suite
 * and ends with one line `N passed, N failed`. Extra arguments go to `deno test`.
 */
import { TESTED_CLAUDE_VERSION } from "@hero/core/config";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

async function claudeVersion(bin: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(bin, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return new TextDecoder().decode(out.stdout).trim().split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

async function ensureClaude(): Promise<string> {
  const fromEnv = Deno.env.get("HERO_ORCHESTRATOR_REAL_CLAUDE");
  if (fromEnv) return fromEnv;
  if (await claudeVersion("claude") === TESTED_CLAUDE_VERSION) return "claude";
  const prefix = `${root}/.ci/out/claude`;
  const local = `${prefix}/node_modules/.bin/claude`;
  if (await claudeVersion(local) === TESTED_CLAUDE_VERSION) return local;
  console.error(`Installing @anthropic-ai/claude-code@${TESTED_CLAUDE_VERSION} into ${prefix}`);
  const npm = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      prefix,
      "--no-audit",
      "--no-fund",
      `@anthropic-ai/claude-code@${TESTED_CLAUDE_VERSION}`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!npm.success || await claudeVersion(local) !== TESTED_CLAUDE_VERSION) {
    throw new Error(`Cannot install the pinned claude CLI ${TESTED_CLAUDE_VERSION}: npm failed`);
  }
  return local;
}

/**
 * Tests whose pass criteria are timings or memory figures. They run after the parallel phase,
 * one file at a time, so the rest of the suite does not load the machine under them.
 */
export const QUIET_TESTS: readonly string[] = [
  "server/events_stall_test.ts",
  "core/supervisor/shutdown_test.ts",
  "core/proxy/server_test.ts",
  "admin/e2e_browser_test.ts",
  "admin/web/lib/markdown_test.ts",
];

interface PhaseResult {
  passed: number;
  failed: number;
  ignored: number;
  success: boolean;
}

async function runPhase(args: string[], env: Record<string, string>): Promise<PhaseResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...args],
    cwd: root,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
  }
  const status = await child.status;
  const summary = /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/.exec(
    tail,
  );
  return {
    passed: summary ? Number(summary[1]) : 0,
    failed: summary ? Number(summary[2]) : status.success ? 0 : 1,
    ignored: summary?.[3] ? Number(summary[3]) : 0,
    success: status.success,
  };
}

async function main(): Promise<number> {
  const claude = await ensureClaude();
  const env = {
    HERO_ORCHESTRATOR_REAL_CLAUDE: claude,
    NO_COLOR: "1",
    // The fake claude runs `deno` from PATH: make it this deno (e.g. when started through npx).
    PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
  };
  const phases: string[][] = Deno.args.length > 0
    // Explicit paths or flags: one run, as asked.
    ? [["--parallel", ...Deno.args]]
    : [
      ["--parallel", `--ignore=${QUIET_TESTS.join(",")}`],
      [...QUIET_TESTS],
    ];
  const total = { passed: 0, failed: 0, ignored: 0 };
  let success = true;
  for (const phase of phases) {
    const result = await runPhase(phase, env);
    total.passed += result.passed;
    total.failed += result.failed;
    total.ignored += result.ignored;
    success &&= result.success;
  }
  console.log(
    `${total.passed} passed, ${total.failed} failed${
      total.ignored ? `, ${total.ignored} skipped` : ""
    }`,
  );
  return success && total.failed === 0 ? 0 : 1;
}

Deno.exit(await main());
