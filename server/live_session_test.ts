/**
 * The live-session methods through the daemon's RPC and the generated SDK (fake claude):
 * `agent.send`, `agent.interrupt`, `agent.set_permission_mode`, `agent.set_model`, `live`.
 */
import assert from "node:assert/strict";
import { fakePrompt } from "@hero/core/testing";
import { type InProcess, startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";

async function rpc(
  d: InProcess,
  method: string,
  params: Record<string, unknown>,
): Promise<
  { result?: unknown; error?: { code: number; message: string; data: { code: string } } }
> {
  const r = await d.fetch("http://localhost/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return await r.json();
}

function review(d: InProcess, id: string) {
  return waitFor(`agent ${id} in review`, async () => {
    const a = await d.client.agent.get({ id });
    return a.status === "awaiting_review" ? a : undefined;
  }, 30_000);
}

Deno.test("RPC: send, interrupt and mode changes on a live session; bad input sends nothing", async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_SESSION_IDLE_MS: "60000" });
  await using d = await startInProcess(t.env);
  const created = await d.client.agent.create({ prompt: "first", cwd: t.work });
  const first = await review(d, created.id);
  assert.equal(first.live, true);

  const sent = await d.client.agent.send({ id: created.id, prompt: "second" });
  assert.equal(sent.delivery, "started");
  const second = await review(d, created.id);
  assert.equal(second.pid, first.pid);
  assert.equal(second.result, "second");

  // A bogus mode is invalid params (-32602) and never reaches claude's stdin.
  const bad = await rpc(d, "agent.set_permission_mode", { id: created.id, mode: "yolo" });
  assert.equal(bad.error?.code, -32602);
  const badModel = await rpc(d, "agent.set_model", { id: created.id, model: "gpt-4" });
  assert.equal(badModel.error?.data.code, "invalid_model");
  const ok = await d.client.agent.setPermissionMode({ id: created.id, mode: "plan" });
  assert.equal(ok.live, true);

  // Interrupt needs a running turn.
  const notRunning = await rpc(d, "agent.interrupt", { id: created.id });
  assert.equal(notRunning.error?.data.code, "invalid_state");
  const record = `${t.work}/record.json`;
  await d.client.agent.send({
    id: created.id,
    prompt: fakePrompt({ auto: true, steps: [{ record }, { text: "partial" }, { hang: true }] }),
  });
  await waitFor("the recorded turn", async () => {
    try {
      return JSON.parse(await Deno.readTextFile(record));
    } catch {
      return undefined;
    }
  });
  const stdin = (JSON.parse(await Deno.readTextFile(record)).stdinLines as string[])
    .map((l) => JSON.parse(l));
  const modes = stdin.filter((l) => l.type === "control_request").map((l) => l.request.mode);
  assert.deepEqual(modes, ["plan"]);
  await waitFor("the turn to be running", async () => {
    const a = await d.client.agent.get({ id: created.id });
    return a.status === "running" ? a : undefined;
  });
  const interrupted = await d.client.agent.interrupt({ id: created.id });
  assert.equal(interrupted.status, "awaiting_review");
  assert.equal(interrupted.live, true);
  assert.equal(interrupted.pid, first.pid);

  // follow_up stays an alias: same process.
  await d.client.agent.followUp({ id: created.id, prompt: "after" });
  const after = await review(d, created.id);
  assert.equal(after.pid, first.pid);
  assert.equal(after.result, "after");
});
