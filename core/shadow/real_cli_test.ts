/**
 * Shadows and the quota proxy end to end: the engine runs the REAL claude CLI, shadows talk to
 * the mock Anthropic API through the proxy's Unix socket, main agents directly (`shadows_only`,
 * set by `realCliDaemonEnv`).
 */
import assert from "node:assert/strict";
import type { EngineSettings } from "../config/mod.ts";
import {
  errorResponse,
  git,
  gitRepo,
  type MockAnthropic,
  type MockRequest,
  realCliDaemonEnv,
  sseResponse,
  startMockAnthropic,
} from "../testing/mod.ts";
import { type Harness, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";
import { COMMIT_INSTRUCTION, NAMING_INSTRUCTION } from "./text.ts";
import { readResult } from "../claude/mod.ts";

const REAL_KEY = "sk-ant-api03-REAL-daemon-key-0123456789abcdef";

type Handler = NonNullable<Parameters<typeof startMockAnthropic>[0]>["handler"];

function texts(request: MockRequest): string {
  const body = request.body as { messages?: { role: string; content: unknown }[] } | null;
  return JSON.stringify(body?.messages ?? []);
}

export function isShadowRequest(request: MockRequest, instruction: string): boolean {
  return request.path.endsWith("/v1/messages") &&
    texts(request).includes(JSON.stringify(instruction).slice(1, -1));
}

function reply(request: MockRequest, text: string): Response {
  const stream = (request.body as { stream?: boolean } | null)?.stream === true;
  return stream ? sseResponse({ blocks: [{ type: "text", text }] }) : Response.json({
    id: "msg_x",
    type: "message",
    role: "assistant",
    model: "claude-haiku-4-5",
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    usage: { input_tokens: 1, output_tokens: 1 },
  });
}

export async function withRealShadows(
  options: {
    handler?: Handler;
    env?: Record<string, string>;
    tune?: (s: EngineSettings) => void;
    logs?: Array<Record<string, unknown>>;
  },
  fn: (h: Harness, mock: MockAnthropic, config: string) => Promise<void>,
): Promise<void> {
  const mock = await startMockAnthropic(options.handler ? { handler: options.handler } : {});
  const config = await Deno.makeTempDir({ prefix: "hero_claude_config_" });
  try {
    await withEngine({
      env: {
        ...realCliDaemonEnv({ mockUrl: mock.url, configDir: config, apiKey: REAL_KEY }),
        DISABLE_TELEMETRY: "1",
        HERO_ORCHESTRATOR_CHILD_ENV: "DISABLE_TELEMETRY",
        HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
        HERO_ORCHESTRATOR_SHADOWS: "naming,commit",
        HERO_ORCHESTRATOR_SHADOW_RETRY_DELAY_MS: "50",
        ...options.env,
      },
      tune: options.tune,
      log: (level, message, fields) => options.logs?.push({ level, message, ...fields }),
    }, (h) => fn(h, mock, config));
  } finally {
    await mock.close();
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
}

function shadowsOf(h: Harness, parentId: string) {
  return h.engine.store.listAgents({ parent_id: parentId, kinds: ["shadow"], limit: 100 }).agents;
}

function resultsOf(h: Harness, id: string) {
  return h.engine.store.readMessages(id, 0, 1000).filter((m) => m.type === "result").map((m) =>
    readResult(JSON.parse(m.raw))!
  );
}

Deno.test("real CLI: a naming shadow names an agent, through the proxy, with the real key injected", async () => {
  await withRealShadows({
    handler: (req) =>
      isShadowRequest(req, NAMING_INSTRUCTION) ? reply(req, "Fix Login Redirect Loop") : undefined,
  }, async (h, mock) => {
    const created = h.engine.supervisor.create({
      prompt: "please fix the redirect loop on the login page of the admin app",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    // At once: the fallback from the prompt's first words.
    assert.equal(created.name, "please fix the redirect loop on");
    const named = await waitFor(
      "the shadow's title",
      () => {
        const a = h.engine.store.getAgent(created.id)!;
        return a.name === "Fix Login Redirect Loop" ? a : undefined;
      },
      60_000,
    );
    assert.equal(named.kind, "standard");
    await waitForStatus(h, created.id, "awaiting_review", 60_000);
    const [shadow] = shadowsOf(h, created.id);
    assert.ok(shadow, "the shadow is stored as a child of the agent");
    assert.equal(shadow.kind, "shadow");
    assert.equal(shadow.model, "claude-haiku-4-5");
    await waitForStatus(h, shadow.id, "completed", 10_000);
    // The shadow's request went through the proxy: the token was swapped for the real key.
    const shadowRequests = mock.requests.filter((r) => isShadowRequest(r, NAMING_INSTRUCTION));
    assert.equal(shadowRequests.length, 1);
    assert.equal(shadowRequests[0]!.headers["x-api-key"], REAL_KEY);
    assert.equal(shadowRequests[0]!.headers["authorization"], undefined);
    assert.equal((shadowRequests[0]!.body as { tools?: unknown[] }).tools?.length ?? 0, 0);
    // Tallies are batched off the request path (every 100 ms), and the shadow completes on its
    // result line, which can come before the proxied body has ended: wait for the write.
    const tally = await waitFor(
      "the proxy's tally of the shadow's request",
      () => h.engine.store.proxyTally(shadow.id),
      5_000,
    );
    assert.ok(tally.requests >= 1, "the proxy attributed the shadow's request");
    // Under `shadows_only` the main agent talks to the upstream directly.
    assert.equal(h.engine.store.proxyTally(created.id), undefined);
    // The shadow's token died with its run.
    const init = JSON.parse(
      h.engine.store.readMessages(shadow.id, 0, 100).find((m) => m.subtype === "init")!.raw,
    );
    assert.equal(init.apiKeySource, "none", "no API key in the shadow's environment");
    assert.deepEqual(init.tools, []);
  });
});

Deno.test("real CLI: a 403 unknown proxy token is retried 3x, then the fallback name stays", async () => {
  await withRealShadows({
    handler: (req) =>
      isShadowRequest(req, NAMING_INSTRUCTION)
        ? errorResponse(403, "permission_error", "unknown proxy token")
        : undefined,
  }, async (h, mock) => {
    const a = h.engine.supervisor.create({
      prompt: "rename the billing module",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    const main = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assert.equal(main.result, "Hello from mock", "the main agent is unaffected");
    const [shadow] = shadowsOf(h, a.id);
    assert.ok(shadow);
    await waitFor("four failed attempts", () => resultsOf(h, shadow.id).length === 4, 60_000);
    const settled = await waitForStatus(h, shadow.id, "failed", 10_000);
    await h.engine.shadows.close(); // every shadow task has ended
    const results = resultsOf(h, shadow.id);
    assert.deepEqual(results.map((r) => [r.isError, r.apiErrorStatus]), [
      [true, 403],
      [true, 403],
      [true, 403],
      [true, 403],
    ]);
    // The CLI's text for it is "Failed to authenticate. API Error: 403 unknown proxy token": it
    // must never become a name.
    assert.match(results[0]!.result ?? "", /403/);
    assert.equal(settled.error_code, "api_error");
    assert.equal(h.engine.store.getAgent(a.id)!.name, "rename the billing module");
    assert.equal(mock.requests.filter((r) => isShadowRequest(r, NAMING_INSTRUCTION)).length, 4);
  });
});

Deno.test("real CLI: a commit shadow writes the message for a real diff; complete {commit} commits only the agent's files", async () => {
  const message = "feat(hello): add the hello and bash output files";
  await withRealShadows({
    env: { HERO_ORCHESTRATOR_SHADOWS: "commit" },
    handler: (req) => isShadowRequest(req, COMMIT_INSTRUCTION) ? reply(req, message) : undefined,
  }, async (h, mock) => {
    await gitRepo(h.cwd, { "README.md": "# project\n", "notes.txt": "notes\n" });
    // Someone's own uncommitted change, from before the agent: never part of its commit.
    await Deno.writeTextFile(`${h.cwd}/notes.txt`, "notes\nmine, not the agent's\n");
    const a = h.engine.supervisor.create({
      prompt: "SCENARIO_TOOLS",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    await waitForStatus(h, a.id, "awaiting_review", 90_000);
    const proposal = await waitFor(
      "the commit proposal",
      () => h.engine.store.commitRecord(a.id),
      60_000,
    );
    assert.equal(proposal.message, message);
    assert.equal(proposal.source, "shadow");
    assert.deepEqual(proposal.files, ["bash_out.txt", "hello.txt"]);
    // The shadow saw the real diff.
    const asked = mock.requests.find((r) => isShadowRequest(r, COMMIT_INSTRUCTION))!;
    assert.match(texts(asked), /hello from mock tool_use/);
    assert.ok(
      !texts(asked).includes("mine, not the agent"),
      "the unrelated change leaked into the diff",
    );

    const { agent, commit } = await h.engine.shadows.complete(a.id, { commit: true });
    assert.equal(agent.status, "completed");
    assert.ok(commit);
    assert.equal(await git(h.cwd, "rev-parse", "HEAD"), commit.sha);
    assert.equal(await git(h.cwd, "log", "-1", "--format=%B"), message);
    assert.equal(
      await git(h.cwd, "show", "--name-only", "--format=", "HEAD"),
      "bash_out.txt\nhello.txt",
    );
    assert.equal(await git(h.cwd, "status", "--porcelain"), "M notes.txt");
    assert.equal(h.engine.store.commitRecord(a.id)!.sha, commit.sha);
  });
});
