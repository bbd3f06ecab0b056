/**
 * Failures as a newcomer meets them, with the REAL claude CLI against the mock Anthropic API: each
 * ends the agent with a stable error code, our own message and a fix, whatever claude printed
 * (through the proxy it always says "Not logged in · Please run /login").
 */
import assert from "node:assert/strict";
import { REAL_CLAUDE_BIN, runRealClaudeTurn, startMockAnthropic } from "../testing/mod.ts";
import { waitForStatus, withEngine } from "../engine/testing_harness.ts";
import { type Agent, errorFix } from "../models/mod.ts";
import { TEXT_SIGNS } from "../claude/mod.ts";

/** A port nothing listens on (bound, then released). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Runs one agent with the real CLI in an engine whose HOME and claude config are empty (no
 * login), with `env` on top; resolves with its failed row.
 */
async function failedAgent(env: Record<string, string>, prompt: string): Promise<Agent> {
  const home = await Deno.makeTempDir({ prefix: "hero_newcomer_home_" });
  try {
    await Deno.mkdir(`${home}/.claude`);
    let failed: Agent | null = null;
    await withEngine({
      env: {
        HOME: home,
        CLAUDE_CONFIG_DIR: `${home}/.claude`,
        HERO_ORCHESTRATOR_CLAUDE_BIN: REAL_CLAUDE_BIN,
        HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        HERO_ORCHESTRATOR_SANDBOX: "bwrap",
        ...env,
      },
    }, async (h) => {
      const a = h.engine.supervisor.create({ prompt, cwd: h.cwd, model: "claude-haiku-4-5" });
      failed = await waitForStatus(h, a.id, "failed", 90_000);
      await h.engine.supervisor.settled(a.id);
    });
    return failed!;
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

function assertFailure(agent: Agent, code: string, message: RegExp): void {
  assert.equal(agent.error_code, code, `${agent.error_code}: ${agent.error_message}`);
  assert.match(agent.error_message ?? "", message);
  assert.equal(agent.error_fix, errorFix(code));
  assert.ok(agent.error_fix && agent.error_fix.length > 20, "a fix is shown");
  assert.doesNotMatch(agent.error_message ?? "", /\/login/, "no /login: there is none here");
}

Deno.test("real CLI: an API key the API refuses (401) is invalid_api_key, direct and through the proxy", async () => {
  await using mock = await startMockAnthropic();
  const direct = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "shadows_only",
    ANTHROPIC_BASE_URL: mock.url,
    ANTHROPIC_API_KEY: "sk-ant-api03-refused",
  }, "SCENARIO_HTTP_401");
  assertFailure(direct, "invalid_api_key", /refused the API key \(401/);
  // Through the proxy claude holds a bearer token and says "Not logged in"; the server knows
  // the upstream credential is an API key.
  const proxied = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
    ANTHROPIC_API_KEY: "sk-ant-api03-refused",
  }, "SCENARIO_HTTP_401");
  assertFailure(proxied, "invalid_api_key", /refused the API key \(401/);
  assert.ok(
    mock.requests.some((r) => r.headers["x-api-key"] === "sk-ant-api03-refused"),
    "the proxied request reached the mock with the key",
  );
});

Deno.test("real CLI: an OAuth login the API refuses (401) is not_logged_in", async () => {
  await using mock = await startMockAnthropic();
  const agent = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
    CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-expired",
  }, "SCENARIO_HTTP_401");
  assertFailure(agent, "not_logged_in", /refused the claude login \(401\)/);
});

Deno.test("real CLI: no credential at all is not_logged_in, through the proxy and direct", async () => {
  await using mock = await startMockAnthropic();
  const proxied = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
  }, "say hello");
  assertFailure(proxied, "not_logged_in", /no claude login or API key/);
  // The proxy answered itself: nothing reached the upstream without a credential.
  assert.equal(mock.requests.filter((r) => r.path.endsWith("/v1/messages")).length, 0);
  // Direct, the CLI finds no credential before any request (no api_error_status at all).
  const direct = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "shadows_only",
    ANTHROPIC_BASE_URL: mock.url,
  }, "say hello");
  assertFailure(direct, "not_logged_in", /no claude login or API key/);
});

Deno.test("real CLI: an unreachable upstream is upstream_unreachable, through the proxy and direct", async () => {
  const proxied = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: `http://127.0.0.1:${closedPort()}`,
    ANTHROPIC_API_KEY: "sk-ant-api03-fine",
  }, "say hello");
  assertFailure(proxied, "upstream_unreachable", /could not be reached.*502/);
  const direct = await failedAgent({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "shadows_only",
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${closedPort()}`,
    ANTHROPIC_API_KEY: "sk-ant-api03-fine",
  }, "say hello");
  assertFailure(direct, "upstream_unreachable", /could not be reached.*ECONNREFUSED/);
});

Deno.test({
  name: "real CLI: root without IS_SANDBOX and without the sandbox is root_without_sandbox",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using mock = await startMockAnthropic();
    const agent = await failedAgent({
      HERO_ORCHESTRATOR_PROXY_SCOPE: "shadows_only",
      HERO_ORCHESTRATOR_SANDBOX: "off",
      ANTHROPIC_BASE_URL: mock.url,
      ANTHROPIC_API_KEY: "sk-test",
      // The harness sets IS_SANDBOX=1; an empty value is what the CLI sees as unset.
      IS_SANDBOX: "",
    }, "say hello");
    assertFailure(agent, "root_without_sandbox", /refuses to run agents as root/);
  },
});

Deno.test("real CLI: every text claude prints without a structured field is matched as the table says", async () => {
  await using mock = await startMockAnthropic();
  const printed = new Map<string, string>();
  const turn = async (env: Record<string, string>, prompt: string) => {
    await using t = await runRealClaudeTurn({ mockUrl: mock.url, prompt, env });
    return String(t.result.result ?? "");
  };
  printed.set("invalid_api_key", await turn({}, "SCENARIO_HTTP_401"));
  printed.set(
    "not_logged_in",
    await turn({ ANTHROPIC_API_KEY: "", ANTHROPIC_AUTH_TOKEN: "hop_x" }, "SCENARIO_HTTP_401"),
  );
  printed.set(
    "upstream_unreachable",
    await turn({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${closedPort()}` }, "hi"),
  );
  if (Deno.uid() === 0) {
    const root = await Deno.makeTempDir({ prefix: "hero_root_refusal_" });
    try {
      const out = await new Deno.Command(REAL_CLAUDE_BIN, {
        args: ["--output-format", "stream-json", "--verbose", "--input-format", "stream-json"]
          .concat(["--permission-mode", "bypassPermissions"]),
        cwd: root,
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: root,
          DISABLE_AUTOUPDATER: "1",
        },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      printed.set("root_without_sandbox", new TextDecoder().decode(out.stderr));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
  for (const sign of TEXT_SIGNS) {
    const text = printed.get(sign.code);
    if (text === undefined) continue; // the root refusal needs root
    assert.match(text, sign.pattern, sign.code);
    assert.ok(text.includes(sign.example), `${sign.code}: the table's example is what it printed`);
    for (const other of TEXT_SIGNS) {
      if (other.code !== sign.code) assert.doesNotMatch(text, other.pattern, other.code);
    }
  }
  assert.ok(printed.size >= TEXT_SIGNS.length - (Deno.uid() === 0 ? 0 : 1));
});
