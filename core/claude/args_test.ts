import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { buildClaudeArgs, userMessageLine } from "./args.ts";
import { buildChildEnv } from "./child_env.ts";

const settings = { maxRetries: 2, apiTimeoutMs: 1000, streamIdleTimeoutMs: 20000, extraEnv: [] };

Deno.test("buildClaudeArgs() uses stream-json both ways and never contains the prompt", () => {
  assertEquals(
    buildClaudeArgs({
      model: "claude-haiku-4-5",
      effort: "high",
      permissionMode: "bypassPermissions",
    }),
    [
      "--output-format",
      "stream-json",
      "--verbose",
      "--input-format",
      "stream-json",
      "--replay-user-messages",
      "--model",
      "claude-haiku-4-5",
      "--permission-mode",
      "bypassPermissions",
      "--effort",
      "high",
    ],
  );
  const none = buildClaudeArgs({
    model: "m",
    effort: "none",
    permissionMode: "plan",
    resume: "s-1",
  });
  assert(!none.includes("--effort"));
  assert(none.includes("plan"));
  assert(none.includes("--resume") && none[none.indexOf("--resume") + 1] === "s-1");
});

Deno.test("userMessageLine() is exactly one JSON line carrying the text verbatim", () => {
  const text = '--version\n--settings {"hooks":{}}\u0000\u202e';
  const line = userMessageLine(text);
  assert(line.endsWith("\n") && line.indexOf("\n") === line.length - 1);
  assertEquals(JSON.parse(line).message.content[0].text, text);
});

Deno.test("buildChildEnv() passes the allow-list only", () => {
  const env = buildChildEnv({
    daemonEnv: {
      PATH: "/bin",
      HOME: "/h",
      AWS_SECRET_ACCESS_KEY: "aws",
      GITHUB_TOKEN: "gh",
      DB_PASSWORD: "pw",
      ANTHROPIC_BASE_URL: "http://x",
      CLAUDE_CODE_EFFORT_LEVEL: "max",
      IS_SANDBOX: "1",
      LD_PRELOAD: "/evil.so",
    },
    settings,
    effort: "low",
    marker: "a.b",
  });
  assertEquals(env, {
    PATH: "/bin",
    HOME: "/h",
    ANTHROPIC_BASE_URL: "http://x",
    IS_SANDBOX: "1",
    CLAUDE_CODE_MAX_RETRIES: "2",
    API_TIMEOUT_MS: "1000",
    CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: "20000",
    DISABLE_AUTOUPDATER: "1",
    HERO_ORCHESTRATOR_AGENT: "a.b",
  });
  const none = buildChildEnv({ daemonEnv: {}, settings, effort: "none", marker: "a.b" });
  assertEquals(none.CLAUDE_CODE_EFFORT_LEVEL, "unset");
});

Deno.test("buildChildEnv() with a proxy: the proxy token is the only credential", () => {
  const env = buildChildEnv({
    daemonEnv: {
      PATH: "/bin",
      HOME: "/h",
      ANTHROPIC_API_KEY: "sk-ant-real",
      ANTHROPIC_AUTH_TOKEN: "gateway",
      ANTHROPIC_BASE_URL: "https://api.anthropic.com",
      ANTHROPIC_CUSTOM_HEADERS: "X-Api-Key: sk",
      ANTHROPIC_MODEL: "claude-haiku-4-5",
      CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat",
      CLAUDE_CODE_USE_BEDROCK: "1",
      CLAUDE_CODE_MAX_OUTPUT_TOKENS: "8000",
      CLAUDE_CONFIG_DIR: "/h/.claude",
      MY_SERVICE_TOKEN: "tok",
    },
    settings: { ...settings, extraEnv: ["MY_SERVICE_TOKEN"] },
    effort: "low",
    marker: "a.b",
    proxy: { socketPath: "/s/proxy.sock", agentId: "a", token: "hop_t", configDir: "/state/cfg" },
  });
  assertEquals(env, {
    PATH: "/bin",
    HOME: "/h",
    ANTHROPIC_MODEL: "claude-haiku-4-5",
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: "8000",
    CLAUDE_CODE_MAX_RETRIES: "2",
    API_TIMEOUT_MS: "1000",
    CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: "20000",
    DISABLE_AUTOUPDATER: "1",
    HERO_ORCHESTRATOR_AGENT: "a.b",
    ANTHROPIC_UNIX_SOCKET: "/s/proxy.sock",
    ANTHROPIC_BASE_URL: "http://localhost/a/a",
    ANTHROPIC_AUTH_TOKEN: "hop_t",
    CLAUDE_CONFIG_DIR: "/state/cfg",
  });
});

Deno.test("buildClaudeArgs() bare: no tools, no MCP servers from settings, no settings", () => {
  const args = buildClaudeArgs({
    model: "claude-haiku-4-5",
    effort: "none",
    permissionMode: "default",
    bare: true,
  });
  assertEquals(args.slice(-5), ["--tools", "", "--strict-mcp-config", "--setting-sources", ""]);
  // Shadows echo their prompt too, so their transcript shows what was sent on their behalf.
  assert(args.includes("--replay-user-messages"));
  assert(args.includes("--tools") && args[args.indexOf("--tools") + 1] === "");
  assertEquals(args[args.indexOf("--permission-mode") + 1], "default");
});

Deno.test("buildClaudeArgs() fork: --fork-session after --resume, --resume-session-at only with a point", () => {
  const base = { model: "m", effort: "low" as const, permissionMode: "default" as const };
  const at = buildClaudeArgs({ ...base, resume: "s-1", fork: true, forkAt: "uuid-7" });
  assertEquals(at.slice(at.indexOf("--resume")), [
    "--resume",
    "s-1",
    "--fork-session",
    "--resume-session-at",
    "uuid-7",
  ]);
  const whole = buildClaudeArgs({ ...base, resume: "s-1", fork: true, forkAt: null });
  assert(whole.includes("--fork-session") && !whole.includes("--resume-session-at"));
  // Without a session to resume there is nothing to fork.
  const fresh = buildClaudeArgs({ ...base, resume: null, fork: true, forkAt: "uuid-7" });
  assert(!fresh.includes("--fork-session") && !fresh.includes("--resume-session-at"));
});
