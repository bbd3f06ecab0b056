import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import { assertStdinLine, buildClaudeArgs, stdinLine, userMessageLine } from "./args.ts";
import { spawnClaude } from "./driver.ts";

const refused = (what: RegExp) => (e: unknown) => e instanceof TypeError && what.test(e.message);
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
      "--include-partial-messages",
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

Deno.test("stdinLine() serialises only a plain object, as exactly one line", () => {
  assertEquals(stdinLine({ type: "user", text: "a\nb" }), '{"type":"user","text":"a\\nb"}\n');
  for (const bad of [null, "hi", 1, [1], new Date(0), new Map()]) {
    throws(() => stdinLine(bad), refused(/Cannot write to claude/));
  }
  throws(() => stdinLine({ n: 1n }), refused(/not JSON/));
});

Deno.test("assertStdinLine() refuses anything but one JSON object plus one newline", () => {
  assertStdinLine('{"type":"user"}\n');
  for (const bad of ["hello\n", "{}", "{}\n{}\n", "[1]\n", "null\n", '"x"\n', "{}\r\n", "\n"]) {
    throws(() => assertStdinLine(bad), refused(/Cannot write to claude/));
  }
});

Deno.test("ClaudeProcess.sendLine() writes nothing for a refused line", async () => {
  // `cat` echoes stdin: what it prints is exactly what reached the child.
  const proc = spawnClaude({
    bin: "cat",
    args: [],
    cwd: Deno.cwd(),
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    maxLineBytes: 1024,
    stderrTailBytes: 1024,
  });
  await rejects(proc.sendLine("not json\n"), refused(/must be JSON/));
  await rejects(proc.sendLine('{"a":1}\n{"b":2}\n'), refused(/one line/));
  await proc.sendLine('{"ok":true}\n');
  await proc.closeStdin();
  const lines: string[] = [];
  for await (const line of proc.lines) lines.push(new TextDecoder().decode(line.bytes));
  await proc.status;
  assertEquals(lines, ['{"ok":true}']);
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
    "--include-partial-messages",
  ]);
  const whole = buildClaudeArgs({ ...base, resume: "s-1", fork: true, forkAt: null });
  assert(whole.includes("--fork-session") && !whole.includes("--resume-session-at"));
  // Without a session to resume there is nothing to fork.
  const fresh = buildClaudeArgs({ ...base, resume: null, fork: true, forkAt: "uuid-7" });
  assert(!fresh.includes("--fork-session") && !fresh.includes("--resume-session-at"));
});

Deno.test("buildClaudeArgs() asks through stdio only when permission prompts are wanted", () => {
  const base = { model: "m", effort: "low" as const, permissionMode: "default" as const };
  const asking = buildClaudeArgs({ ...base, permissionPrompts: true });
  assertEquals(asking[asking.indexOf("--permission-prompt-tool") + 1], "stdio");
  assert(!buildClaudeArgs(base).includes("--permission-prompt-tool"));
  // Shadows (bare) never stream partial messages: nobody watches them type.
  assert(!buildClaudeArgs({ ...base, bare: true }).includes("--include-partial-messages"));
});
