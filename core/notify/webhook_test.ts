import assert from "node:assert/strict";
import { EventBus } from "../events/mod.ts";
import { resolveNotifySettings } from "../config/mod.ts";
import { type Agent, type Approval, errorFix } from "../models/mod.ts";
import { fakePrompt } from "../testing/mod.ts";
import { waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";
import type { Attention } from "./attention.ts";
import { startWebhookNotifier } from "./webhook.ts";

/** A real HTTP receiver on 127.0.0.1 that records every body and answers per `answer`. */
function receiver(answer: (n: number) => number | "hang" = () => 200) {
  const got: Array<{ body: Attention; key: string | null }> = [];
  let requests = 0;
  const hanging: Array<() => void> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const n = requests++;
    const body = await req.json() as Attention;
    const how = answer(n);
    if (how === "hang") {
      await new Promise<void>((resolve) => hanging.push(resolve));
      return new Response("late", { status: 200 });
    }
    if (how === 200) got.push({ body, key: req.headers.get("idempotency-key") });
    return new Response(null, { status: how });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    got,
    requests: () => requests,
    async [Symbol.asyncDispose]() {
      for (const release of hanging) release();
      await server.shutdown();
    },
  };
}

function agentRow(id: string, status: Agent["status"], extra: Partial<Agent> = {}): Agent {
  return {
    id,
    name: `agent ${id}`,
    prompt: "p",
    cwd: "/w",
    model: "m",
    effort: "medium",
    kind: "standard",
    status,
    parent_id: null,
    session_id: null,
    pid: null,
    pgid: null,
    created_at: 1,
    updated_at: 2,
    started_at: null,
    finished_at: null,
    cancel_requested_at: null,
    exit_code: null,
    exit_signal: null,
    error_code: status === "failed" ? "exit_nonzero" : null,
    error_message: status === "failed" ? "claude exited with code 3" : null,
    error_fix: null,
    result: status === "awaiting_review" ? "Done: wrote the file" : null,
    turn_count: 0,
    num_turns: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    total_cost_usd: 0,
    last_seq: 0,
    rate_limit_resets_at: null,
    stderr_tail: null,
    stderr_truncated: false,
    home_mcp: null,
    hero_context: null,
    permission_mode: "bypassPermissions",
    pause_reason: null,
    pause_window: null,
    paused_at: null,
    resume_at: null,
    max_cost_usd: null,
    max_turns: null,
    priority: "normal",
    active_ms: 0,
    active_since: null,
    ...extra,
  };
}

function settings(url: string, env: Record<string, string> = {}) {
  return {
    ...resolveNotifySettings({ HERO_ORCHESTRATOR_NOTIFY_URL: url, ...env }),
    url,
    backoffMs: 10,
    maxBackoffMs: 40,
  };
}

Deno.test("webhook: one POST per entry into a status that needs a person, in order, deduped", async () => {
  await using hook = receiver();
  const bus = new EventBus();
  const notifier = startWebhookNotifier({
    bus,
    settings: settings(hook.url, { HERO_ORCHESTRATOR_NOTIFY_LINK_BASE: "https://h.example/adm/" }),
  });
  let id = 0;
  const publish = (agent: Agent) => bus.publish({ kind: "agent", id: ++id, agent });
  publish(agentRow("a", "running"));
  publish(agentRow("a", "awaiting_review"));
  publish(agentRow("a", "awaiting_review", { exit_code: 0 })); // same status: not new
  publish(agentRow("s", "failed", { kind: "shadow" })); // shadows never page anyone
  publish(agentRow("b", "failed"));
  publish(agentRow("a", "running")); // a follow-up ...
  publish(agentRow("a", "awaiting_review")); // ... and its review: new again
  // Pauses that end by themselves (or were a person's) page nobody; a budget pause asks.
  publish(agentRow("c", "paused", { pause_reason: "rate_limit" }));
  publish(agentRow("c", "paused", { pause_reason: "manual" }));
  publish(agentRow("d", "paused", { pause_reason: "budget", error_message: "Paused: its cost" }));
  await waitFor("four deliveries", () => hook.got.length === 4);
  await notifier.close();
  assert.deepEqual(hook.got.map((g) => [g.body.type, g.body.agent.id, g.body.event_id]), [
    ["agent.awaiting_review", "a", 2],
    ["agent.failed", "b", 5],
    ["agent.awaiting_review", "a", 7],
    ["agent.paused", "d", 10],
  ]);
  assert.equal(hook.got[3]!.body.title, 'Agent "agent d" is paused at its budget');
  assert.equal(hook.got[3]!.body.message, "Paused: its cost; raise it to continue");
  assert.equal(hook.got[0]!.key, "hero-orchestrator-2");
  assert.equal(hook.got[0]!.body.link, "https://h.example/adm/agents/a");
  assert.equal(hook.got[0]!.body.message, "Done: wrote the file");
  assert.equal(hook.got[1]!.body.title, 'Agent "agent b" failed');
  assert.match(hook.got[1]!.body.message, /exit_nonzero: claude exited with code 3/);
  assert.equal(notifier.stats().delivered, 4);
});

Deno.test("webhook: a permission prompt waiting for an answer pages once, with its agent; its answer does not", async () => {
  await using hook = receiver();
  const bus = new EventBus();
  const agents = new Map([["a", agentRow("a", "running")]]);
  const notifier = startWebhookNotifier({
    bus,
    settings: settings(hook.url, { HERO_ORCHESTRATOR_NOTIFY_LINK_BASE: "https://h.example/adm" }),
    getAgent: (id) => agents.get(id),
  });
  const approval = (state: Approval["state"]): Approval => ({
    id: "ap1",
    agent_id: "a",
    tool_name: "Bash",
    input: { command: "rm -rf build" },
    description: null,
    permission_suggestions: [],
    tool_use_id: "t1",
    created_at: 5,
    state,
    answered_by: state === "pending" ? null : "admin",
    message: null,
    remember: null,
    answered_at: state === "pending" ? null : 6,
  });
  bus.publish({ kind: "approval", id: 1, agent_id: "a", approval: approval("pending") });
  bus.publish({ kind: "approval", id: 2, agent_id: "a", approval: approval("allowed") });
  // A prompt of an agent that is gone has nobody to point at.
  bus.publish({
    kind: "approval",
    id: 3,
    agent_id: "x",
    approval: { ...approval("pending"), agent_id: "x" },
  });
  bus.publish({ kind: "agent", id: 4, agent: agentRow("b", "failed") });
  await waitFor("two deliveries", () => hook.got.length === 2);
  await notifier.close();
  assert.deepEqual(hook.got.map((g) => [g.body.type, g.body.agent.id, g.body.event_id]), [
    ["approval.pending", "a", 1],
    ["agent.failed", "b", 4],
  ]);
  const note = hook.got[0]!.body;
  assert.equal(note.title, 'Agent "agent a" asks to use Bash');
  assert.equal(note.message, "rm -rf build");
  assert.equal(note.agent.status, "running");
  assert.equal(note.link, "https://h.example/adm/agents/a");
});

Deno.test("webhook: failures are retried with back-off and order is kept; exhausted retries are counted", async () => {
  // Requests 0 and 1 fail (the first notification's first two attempts), then all succeed.
  await using hook = receiver((n) => (n < 2 ? 503 : 200));
  const bus = new EventBus();
  const notifier = startWebhookNotifier({ bus, settings: settings(hook.url) });
  bus.publish({ kind: "agent", id: 1, agent: agentRow("a", "awaiting_review") });
  bus.publish({ kind: "agent", id: 2, agent: agentRow("b", "awaiting_review") });
  await waitFor("both delivered", () => hook.got.length === 2);
  assert.deepEqual(hook.got.map((g) => g.body.agent.id), ["a", "b"]);
  assert.equal(hook.requests(), 4);
  await notifier.close();

  await using dead = receiver(() => 500);
  const bus2 = new EventBus();
  const retries = 2;
  const failing = startWebhookNotifier({
    bus: bus2,
    settings: { ...settings(dead.url), retries },
  });
  bus2.publish({ kind: "agent", id: 1, agent: agentRow("a", "failed") });
  await waitFor("given up", () => failing.stats().failed === 1);
  assert.equal(dead.requests(), retries + 1);
  assert.match(failing.stats().lastError ?? "", /500/);
  await failing.close();
});

Deno.test("webhook in the engine: real agents notify once each; a webhook that never answers does not hold them up", async () => {
  await using hook = receiver();
  await withEngine({ env: { HERO_ORCHESTRATOR_NOTIFY_URL: hook.url } }, async (h) => {
    const ok = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { text: "hello" }, { result: { result: "all done" } }]),
      cwd: h.cwd,
    });
    const bad = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { exit: 3 }]),
      cwd: h.cwd,
    });
    await waitForStatus(h, ok.id, "awaiting_review");
    await waitForStatus(h, bad.id, "failed");
    await waitFor("two notifications", () => hook.got.length >= 2);
    // Exit-status updates after the review row must not notify again.
    await new Promise((r) => setTimeout(r, 300));
    const byAgent = new Map(hook.got.map((g) => [g.body.agent.id, g.body]));
    assert.equal(hook.got.length, 2);
    assert.equal(byAgent.get(ok.id)?.type, "agent.awaiting_review");
    assert.equal(byAgent.get(ok.id)?.message, "all done");
    assert.equal(byAgent.get(bad.id)?.type, "agent.failed");
    assert.equal(byAgent.get(bad.id)?.agent.error_code, "exit_nonzero");
    // The receiver can tell a person what to do about it, as the admin does.
    assert.equal(byAgent.get(bad.id)?.agent.error_fix, errorFix("exit_nonzero"));
  });

  // A receiver that accepts and never answers: agents still finish and the engine closes.
  await using stuck = receiver(() => "hang");
  await withEngine({
    env: { HERO_ORCHESTRATOR_NOTIFY_URL: stuck.url, HERO_ORCHESTRATOR_NOTIFY_TIMEOUT_MS: "600000" },
  }, async (h) => {
    const ids = Array.from({ length: 5 }, (_, i) =>
      h.engine.supervisor.create({
        prompt: fakePrompt([{ init: true }, { text: `n${i}` }, { result: true }]),
        cwd: h.cwd,
      }).id);
    for (const id of ids) await waitForStatus(h, id, "awaiting_review");
    await waitFor("the first delivery to be stuck", () => stuck.requests() === 1);
    const stats = h.engine.notifier!.stats();
    assert.equal(stats.delivered, 0);
    assert.equal(stats.queued, 4, "the other four wait behind the stuck one, in order");
  });
});
