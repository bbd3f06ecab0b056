/**
 * End to end through the SDK over the Unix socket: the daemon as it ships (`server/main.ts` under
 * the production permission set, reliability target T40), real DB, the fake claude.
 */
import assert from "node:assert/strict";
import { TESTED_CLAUDE_VERSION } from "@hero/core/config";
import { fakePrompt } from "@hero/core/testing";
import { RpcError, type ServiceEvent } from "@hero/sdk";
import { startProduction, tempEnv, waitFor } from "./testing/daemon.ts";
import { METHOD_NAMES } from "@hero/core/rpc";

async function collectUntil(
  events: AsyncIterable<ServiceEvent>,
  done: (event: ServiceEvent, all: ServiceEvent[]) => boolean,
): Promise<ServiceEvent[]> {
  const all: ServiceEvent[] = [];
  for await (const event of events) {
    all.push(event);
    if (done(event, all)) return all;
  }
  throw new Error(`The stream ended early; got ${JSON.stringify(all.map((e) => [e.id, e.event]))}`);
}

Deno.test("e2e: create → stream → awaiting_review → complete through the SDK", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const { client } = d;
  const info = await client.system.info();
  assert.equal(info.claude.version, TESTED_CLAUDE_VERSION);
  assert.equal(info.paths.rpc_socket, d.socketPath);

  const abort = new AbortController();
  const created = await client.agent.create({
    prompt: "hello there",
    cwd: t.work,
    name: "greeter",
  });
  assert.equal(created.status === "queued" || created.status === "running", true);
  assert.equal(created.model, "claude-sonnet-4-6");
  assert.equal(created.effort, "medium");
  assert.equal(created.kind, "standard");

  // Subscribe from the start of history, filtered to this agent.
  const events = client.events({
    agent: created.id,
    lastEventId: 0,
    signal: AbortSignal.any([abort.signal, AbortSignal.timeout(20_000)]),
  });
  const seen = await collectUntil(
    events,
    (e) => e.event === "agent" && e.data.status === "awaiting_review",
  );
  const messages = seen.filter((e) => e.event === "message");
  assert.deepEqual(
    messages.map((e) => e.event === "message" && [e.data.seq, e.data.type]),
    [[1, "system"], [2, "user"], [3, "assistant"], [4, "result"]],
  );
  const assistant = messages[2]!;
  assert.ok(assistant.event === "message" && assistant.data.raw!.includes("hello there"));
  const ids = seen.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "event ids increase");

  const review = await client.agent.get({ id: created.id });
  assert.equal(review.status, "awaiting_review");
  assert.equal(review.result, "hello there");
  assert.equal(review.last_seq, 4);
  assert.ok(review.session_id);
  assert.ok(review.total_cost_usd > 0);
  const page = await client.agent.messages({ id: created.id });
  assert.deepEqual(page.messages.map((m) => m.seq), [1, 2, 3, 4]);
  assert.equal(page.next_seq, 4);
  assert.equal(page.has_more, false);
  const paged = await client.agent.messages({ id: created.id, after_seq: 1, limit: 1 });
  assert.deepEqual(paged.messages.map((m) => m.seq), [2]);
  assert.equal(paged.has_more, true);

  const done = await client.agent.complete({ id: created.id });
  assert.equal(done.status, "completed");
  assert.ok(done.finished_at);
  abort.abort();

  // Completed agents can be deleted, with their messages.
  assert.deepEqual(await client.agent.delete({ id: created.id }), {
    id: created.id,
    deleted: true,
  });
  await assert.rejects(
    () => client.agent.get({ id: created.id }),
    (err) =>
      err instanceof RpcError && err.reason === "not_found" && err.code === -32000 &&
      err.name === "AgentNotFoundError",
  );
});

Deno.test("e2e: follow_up resumes the same claude session and continues seq", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const { client } = d;
  const first = await client.agent.create({ prompt: "first turn", cwd: t.work });
  await waitFor(
    "review",
    async () => (await client.agent.get({ id: first.id })).status === "awaiting_review",
  );
  const before = await client.agent.get({ id: first.id });

  const record = `${t.work}/second.json`; // the cwd: shared with the sandbox
  const resumed = await client.agent.followUp({
    id: first.id,
    prompt: fakePrompt({ auto: true, steps: [{ record }, { text: "second turn" }] }),
  });
  assert.ok(["queued", "running"].includes(resumed.status), resumed.status);
  const after = await waitFor("review again", async () => {
    const a = await client.agent.get({ id: first.id });
    return a.status === "awaiting_review" && a.turn_count === 2 ? a : undefined;
  });
  assert.equal(after.session_id, before.session_id, "same claude session");
  const argv = JSON.parse(await Deno.readTextFile(record)).argv as string[];
  assert.equal(argv[argv.indexOf("--resume") + 1], before.session_id);

  const { messages } = await client.agent.messages({ id: first.id, limit: 1000 });
  assert.deepEqual(messages.map((m) => m.seq), messages.map((_, i) => i + 1), "seq 1..N, no gaps");
  assert.ok(messages.length > before.last_seq);
  assert.ok(messages.slice(before.last_seq).some((m) => m.raw.includes("second turn")));

  // A follow-up on a completed agent is refused.
  await client.agent.complete({ id: first.id });
  await assert.rejects(
    () => client.agent.followUp({ id: first.id, prompt: "again" }),
    (err) => err instanceof RpcError && err.reason === "invalid_state",
  );
});

Deno.test("e2e: a planner runs in plan mode; follow_up execute leaves it", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const { client } = d;
  const plan = `${t.work}/plan.json`;
  const run = `${t.work}/run.json`;
  const planner = await client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ record: plan }, { text: "1. do it" }] }),
    cwd: t.work,
    kind: "planner",
  });
  assert.equal(planner.kind, "planner");
  await waitFor(
    "plan ready",
    async () => (await client.agent.get({ id: planner.id })).status === "awaiting_review",
  );
  const planArgv = JSON.parse(await Deno.readTextFile(plan)).argv as string[];
  assert.equal(planArgv[planArgv.indexOf("--permission-mode") + 1], "plan");

  await client.agent.followUp({
    id: planner.id,
    prompt: fakePrompt({ auto: true, steps: [{ record: run }, { text: "done" }] }),
    execute: true,
  });
  await waitFor("executed", async () => {
    const a = await client.agent.get({ id: planner.id });
    return a.status === "awaiting_review" && a.turn_count === 2;
  });
  const runArgv = JSON.parse(await Deno.readTextFile(run)).argv as string[];
  assert.equal(runArgv[runArgv.indexOf("--permission-mode") + 1], "bypassPermissions");
  assert.ok(runArgv.includes("--resume"));
});

Deno.test("e2e: cancel stops a running agent and answers once it is cancelled", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const { client } = d;
  const agent = await client.agent.create({
    prompt: fakePrompt({ steps: [{ init: true }, { text: "working" }, { hang: true }] }),
    cwd: t.work,
  });
  await waitFor("running", async () => {
    const a = await client.agent.get({ id: agent.id });
    return a.status === "running" && a.last_seq >= 2;
  });
  const cancelled = await client.agent.cancel({ id: agent.id });
  assert.equal(cancelled.status, "cancelled");
  assert.equal(cancelled.error_code, "cancelled");
  assert.ok(cancelled.cancel_requested_at);
  // Cancelling again is an invalid state; so is completing.
  await assert.rejects(
    () => client.agent.cancel({ id: agent.id }),
    (err) => err instanceof RpcError && err.reason === "invalid_state" && err.code === -32001,
  );
  // Running and queued count for the `running` bucket; cancelled for `completed`.
  const done = await client.agent.list({ bucket: "completed" });
  assert.deepEqual(done.agents.map((a) => a.id), [agent.id]);
  assert.equal((await client.agent.list({ bucket: "running" })).agents.length, 0);
});

Deno.test("e2e: GET /health, /.well-known/heroservice.json and /openrpc.json", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const health = await (await d.fetch("http://localhost/health")).json();
  assert.equal(health.status, "ok");
  assert.equal(health.service, "hero_orchestrator");
  assert.equal(health.version, "0.1.0");
  assert.equal(health.checks.db.ok, true);
  assert.equal(health.checks.supervisor.ok, true);
  const manifest = await (await d.fetch("http://localhost/.well-known/heroservice.json")).json();
  assert.equal(manifest.protocol, "openrpc");
  assert.equal(manifest.socket, "rpc");
  assert.equal(manifest.methods_count, METHOD_NAMES.length);
  const doc = await (await d.fetch("http://localhost/openrpc.json")).json();
  assert.deepEqual(await d.client.rpc.discover(), doc);
  assert.equal(doc.openrpc, "1.3.2");
  const missing = await d.fetch("http://localhost/nope");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("e2e: HERO_ORCHESTRATOR_ALLOWED_ROOTS confines the canonical cwd", async () => {
  await using t = await tempEnv();
  Deno.mkdirSync(`${t.dir}/outside`);
  Deno.symlinkSync(`${t.dir}/outside`, `${t.work}/escape`);
  await using d = await startProduction({ ...t.env, HERO_ORCHESTRATOR_ALLOWED_ROOTS: t.work });
  for (const cwd of [`${t.dir}/outside`, `${t.work}/escape`, "/"]) {
    await assert.rejects(
      () => d.client.agent.create({ prompt: "x", cwd }),
      (err) => err instanceof RpcError && err.reason === "invalid_cwd" && err.code === -32002,
      cwd,
    );
  }
  const inside = await d.client.agent.create({ prompt: "x", cwd: t.work });
  assert.equal(inside.cwd, t.work);
  await d.client.agent.cancel({ id: inside.id }).catch(() => {});
  // A daemon of its own (this one still serves t's socket): it refuses to start.
  await using other = await tempEnv();
  await assert.rejects(
    () => startProduction({ ...other.env, HERO_ORCHESTRATOR_ALLOWED_ROOTS: "relative/dir" }),
    /not an absolute path/,
  );
});
