/**
 * The approval inbox through the daemon's RPC, the SDK and SSE (fake claude asking
 * `can_use_tool`): allow writes the file, deny does not and the model gets the denial, a timeout
 * denies, two concurrent answers → exactly one wins and claude gets exactly one response, bad
 * input is refused, and every prompt and answer is a stored, replayable `approval` event.
 */
import assert from "node:assert/strict";
import { fakePrompt, type FakeStep } from "@hero/core/testing";
import { type Approval, createClient, parseSse } from "@hero/sdk";
import { type InProcess, spawnDaemon, startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

async function rpc(
  d: InProcess,
  method: string,
  params: Record<string, unknown>,
): Promise<{ result?: unknown; error?: { code: number; data: { code: string } } }> {
  const r = await d.fetch("http://localhost/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return await r.json();
}

function asking(path: string, extra: FakeStep[] = []): string {
  return fakePrompt({
    auto: true,
    steps: [
      { ask: { tool: "Write", input: { file_path: path, content: "written" } } },
      { text: "after the tool" },
      ...extra,
    ],
  });
}

function pendingOf(d: InProcess, agentId: string): Promise<Approval> {
  return waitFor("a pending approval", async () => {
    const list = await d.client.approval.list({ agent_id: agentId, state: "pending" });
    return list.approvals[0];
  }, 30_000);
}

function settled(d: InProcess, id: string, status = "awaiting_review") {
  return waitFor(`agent ${id} ${status}`, async () => {
    const a = await d.client.agent.get({ id });
    return a.status === status ? a : undefined;
  }, 30_000);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("approvals: allow runs the tool; deny does not and the model is told; both are events", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const allowed = `${t.work}/allowed.txt`;
  const a = await d.client.agent.create({
    prompt: asking(allowed),
    cwd: t.work,
    permission_mode: "default",
  });
  const p = await pendingOf(d, a.id);
  assert.equal(p.tool_name, "Write");
  assert.deepEqual(p.input, { file_path: allowed, content: "written" });
  assert.equal(p.state, "pending");
  const waiting = await d.client.agent.get({ id: a.id });
  assert.equal(waiting.status, "running");
  assert.deepEqual(waiting.pending_approvals.map((x) => x.id), [p.id]);
  assert.equal(await exists(allowed), false, "nothing runs before the answer");

  const answer = await d.client.approval.respond({
    id: p.id,
    decision: "allow",
    answered_by: "test",
  });
  assert.equal(answer.state, "allowed");
  assert.equal(answer.answered_by, "test");
  assert.ok(answer.answered_at !== null);
  const done = await settled(d, a.id);
  assert.equal(done.pending_approvals.length, 0);
  assert.equal(await Deno.readTextFile(allowed), "written");

  const denied = `${t.work}/denied.txt`;
  const b = await d.client.agent.create({
    prompt: asking(denied),
    cwd: t.work,
    permission_mode: "acceptEdits",
  });
  const q = await pendingOf(d, b.id);
  const no = await d.client.approval.respond({
    id: q.id,
    decision: "deny",
    message: "not that file",
  });
  assert.deepEqual([no.state, no.message], ["denied", "not that file"]);
  await settled(d, b.id);
  assert.equal(await exists(denied), false);
  const lines = (await d.client.agent.messages({ id: b.id })).messages;
  const denial = lines.map((m) => JSON.parse(m.raw)).find((v) =>
    v.type === "user" && v.message?.content?.[0]?.type === "tool_result"
  );
  assert.deepEqual(
    [denial.message.content[0].content, denial.message.content[0].is_error],
    ["not that file", true],
  );

  // The stored events replay: one on creation, one on the answer (data as the row is now).
  const r = await d.fetch(`http://localhost/events?agent=${b.id}&last_event_id=0`);
  const approvals: Approval[] = [];
  for await (const m of parseSse(r.body!)) {
    if (m.event === "approval") approvals.push(JSON.parse(m.data));
    if (m.event === "message" && JSON.parse(m.data).type === "result") break;
  }
  assert.deepEqual(approvals.map((x) => [x.id, x.state]), [[q.id, "denied"], [q.id, "denied"]]);
  const all = await d.client.approval.list({});
  assert.deepEqual(all.approvals.map((x) => x.id), [q.id, p.id], "newest first");
});

Deno.test("approvals: no answer in time is a deny; two answers at once → exactly one wins", async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_APPROVAL_TIMEOUT_MS: "1500" });
  await using d = await startInProcess(t.env);
  const late = `${t.work}/late.txt`;
  const a = await d.client.agent.create({
    prompt: asking(late),
    cwd: t.work,
    permission_mode: "default",
  });
  const p = await pendingOf(d, a.id);
  await settled(d, a.id);
  const timedOut = (await d.client.approval.list({ agent_id: a.id })).approvals[0]!;
  assert.deepEqual([timedOut.id, timedOut.state, timedOut.answered_by], [
    p.id,
    "denied",
    "timeout",
  ]);
  assert.match(timedOut.message!, /nobody answered/);
  assert.equal(await exists(late), false);
  const tooLate = await rpc(d, "approval.respond", { id: p.id, decision: "allow" });
  assert.equal(tooLate.error?.data.code, "invalid_state");

  const record = `${t.work}/stdin.json`;
  const raced = `${t.work}/raced.txt`;
  const b = await d.client.agent.create({
    prompt: asking(raced, [{ sleep: 500 }, { record }]),
    cwd: t.work,
    permission_mode: "default",
  });
  const q = await pendingOf(d, b.id);
  const answers = await Promise.all([
    rpc(d, "approval.respond", { id: q.id, decision: "allow", answered_by: "tab-1" }),
    rpc(d, "approval.respond", { id: q.id, decision: "deny", answered_by: "tab-2" }),
  ]);
  const won = answers.filter((x) => x.result !== undefined);
  const lost = answers.filter((x) => x.error !== undefined);
  assert.equal(won.length, 1);
  assert.equal(lost[0]!.error!.data.code, "invalid_state");
  await settled(d, b.id);
  const stdin = JSON.parse(await Deno.readTextFile(record)).stdinLines as string[];
  const responses = stdin.map((l) => JSON.parse(l)).filter((v) => v.type === "control_response");
  assert.equal(responses.length, 1, "claude receives exactly one answer");
  const winner = won[0]!.result as Approval;
  assert.equal(await exists(raced), winner.state === "allowed");
});

Deno.test("approvals: bad input — unknown id, bypass agent, interrupt withdraws the prompt", async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_SESSION_IDLE_MS: "60000" });
  await using d = await startInProcess(t.env);
  const unknown = await rpc(d, "approval.respond", { id: "nope", decision: "allow" });
  assert.equal(unknown.error?.data.code, "not_found");
  const noAgent = await rpc(d, "approval.list", { agent_id: "nope" });
  assert.equal(noAgent.error?.data.code, "not_found");
  const bogus = await rpc(d, "approval.respond", { id: "x", decision: "maybe" });
  assert.equal(bogus.error?.code, -32602);

  const path = `${t.work}/never.txt`;
  const a = await d.client.agent.create({
    prompt: asking(path),
    cwd: t.work,
    permission_mode: "default",
  });
  const p = await pendingOf(d, a.id);
  // Interrupt: claude withdraws the prompt (control_cancel_request) → cancelled, nothing ran.
  const interrupted = await d.client.agent.interrupt({ id: a.id });
  assert.equal(interrupted.status, "awaiting_review");
  const cancelled = await waitFor("the withdrawn prompt", async () => {
    const x = (await d.client.approval.list({ agent_id: a.id })).approvals[0];
    return x?.state === "cancelled" ? x : undefined;
  });
  assert.equal(cancelled.answered_by, "claude");
  assert.equal(await exists(path), false);
  const after = await rpc(d, "approval.respond", { id: p.id, decision: "allow" });
  assert.equal(after.error?.data.code, "invalid_state");

  // An agent switched to bypassPermissions has nothing to answer.
  const b = await d.client.agent.create({
    prompt: asking(`${t.work}/b.txt`),
    cwd: t.work,
    permission_mode: "default",
  });
  const q = await pendingOf(d, b.id);
  const switched = await d.client.agent.setPermissionMode({ id: b.id, mode: "bypassPermissions" });
  assert.equal(switched.permission_mode, "bypassPermissions");
  const bypass = await rpc(d, "approval.respond", { id: q.id, decision: "allow" });
  assert.equal(bypass.error?.data.code, "invalid_state");
  await d.client.agent.cancel({ id: b.id });
  const expired = (await d.client.approval.list({ agent_id: b.id })).approvals[0]!;
  assert.deepEqual([expired.state, expired.answered_by], ["expired", "daemon"]);
});

Deno.test("approvals: kill -9 of the daemon with a pending prompt → expired after restart, the tool never ran", async () => {
  await using t = await tempEnv();
  const file = `${t.work}/after-crash.txt`;
  let agentId: string;
  let approvalId: string;
  {
    const first = await spawnDaemon(t.env);
    const transport = unixFetch(t.socketPath);
    try {
      const client = createClient({ fetch: transport.fetch });
      const a = await client.agent.create({
        prompt: asking(file),
        cwd: t.work,
        permission_mode: "default",
      });
      agentId = a.id;
      approvalId = await waitFor("a pending approval", async () => {
        const list = await client.approval.list({ state: "pending" });
        return list.approvals[0]?.id;
      }, 30_000);
    } finally {
      transport.close();
    }
    // No shutdown: the daemon dies with the prompt pending and claude still waiting.
    await first.stop("SIGKILL");
  }
  await using _second = await spawnDaemon(t.env);
  const transport = unixFetch(t.socketPath);
  try {
    const client = createClient({ fetch: transport.fetch });
    const approval = (await client.approval.list({ agent_id: agentId })).approvals[0]!;
    assert.deepEqual([approval.id, approval.state, approval.answered_by], [
      approvalId,
      "expired",
      "daemon",
    ]);
    const agent = await client.agent.get({ id: agentId });
    assert.deepEqual([agent.status, agent.error_code], ["failed", "daemon_restart"]);
    assert.deepEqual(agent.pending_approvals, []);
    const late = await rpcOver(transport.fetch, "approval.respond", {
      id: approvalId,
      decision: "allow",
    });
    assert.equal(late.error?.data.code, "invalid_state", "nothing runs on a stale approval");
    // The orphaned claude was stopped by recovery and never wrote the file.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await exists(file), false);
  } finally {
    transport.close();
  }
});

async function rpcOver(
  fetchFn: typeof fetch,
  method: string,
  params: Record<string, unknown>,
): Promise<{ result?: unknown; error?: { code: number; data: { code: string } } }> {
  const r = await fetchFn("http://localhost/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return await r.json();
}

Deno.test("approvals: allow with updated_input runs the edited call; remember: session passes claude's suggestions", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const path = `${t.work}/edited.txt`;
  const record = `${t.work}/stdin-edited.json`;
  const a = await d.client.agent.create({
    prompt: asking(path, [{ record }]),
    cwd: t.work,
    permission_mode: "default",
  });
  const p = await pendingOf(d, a.id);
  assert.deepEqual(p.permission_suggestions, [
    { type: "setMode", mode: "acceptEdits", destination: "session" },
  ]);
  const allowed = await d.client.approval.respond({
    id: p.id,
    decision: "allow",
    updated_input: { file_path: path, content: "edited by a person" },
    remember: "session",
  });
  assert.deepEqual([allowed.state, allowed.remember], ["allowed", "session"]);
  await settled(d, a.id);
  assert.equal(await Deno.readTextFile(path), "edited by a person");
  const stdin = JSON.parse(await Deno.readTextFile(record)).stdinLines as string[];
  const [response] = stdin.map((l) => JSON.parse(l)).filter((v) => v.type === "control_response");
  assert.deepEqual(response.response.response.updatedPermissions, p.permission_suggestions);
  assert.equal(response.response.response.toolUseID, p.tool_use_id);
});
