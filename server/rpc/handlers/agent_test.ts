/** `agent.cwds` and `agent.messages` with `before_seq`, over the real socket against a real engine. */
import assert from "node:assert/strict";
import { newId } from "@hero/core/models";
import { MAX_KNOWN_CWDS } from "@hero/core/rpc";
import { fakePrompt } from "@hero/core/testing";
import { RpcError } from "@hero/sdk";
import { startInProcess, startProduction, tempEnv, waitFor } from "../../testing/daemon.ts";

Deno.test("agent.cwds: every cwd most recently used first, counts, shadows left out, bounded", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const { store } = d.daemon.engine;
  assert.deepEqual(await d.client.agent.cwds(), { cwds: [] });
  const base = Date.now() - 1_000_000;
  store.write(() => {
    // More directories than one answer holds; /d/0 is the oldest.
    for (let i = 0; i < MAX_KNOWN_CWDS + 20; i++) {
      store.insertAgent({
        id: newId(base + i),
        prompt: "p",
        cwd: `/d/${i}`,
        model: "claude-haiku-4-5",
        effort: "low",
        kind: i % 2 ? "standard" : "planner",
        created_at: base + i,
      });
    }
    const parent = newId(base + 600);
    store.insertAgent({
      id: parent,
      prompt: "p",
      cwd: "/d/7",
      model: "claude-haiku-4-5",
      effort: "low",
      kind: "standard",
      created_at: base + 600,
    });
    // A shadow, newest of all, in a directory only shadows used.
    store.insertAgent({
      id: newId(base + 700),
      prompt: "p",
      cwd: "/only/shadows",
      model: "claude-haiku-4-5",
      effort: "low",
      kind: "shadow",
      parent_id: parent,
      created_at: base + 700,
    });
  });
  const { cwds } = await d.client.agent.cwds({});
  assert.equal(cwds.length, MAX_KNOWN_CWDS);
  assert.deepEqual(cwds[0], { cwd: "/d/7", count: 2, last_used_at: base + 600 });
  assert.deepEqual(cwds[1], {
    cwd: `/d/${MAX_KNOWN_CWDS + 19}`,
    count: 1,
    last_used_at: base + 519,
  });
  assert.ok(!cwds.some((c) => c.cwd === "/only/shadows"), "shadows are not counted");
  for (let i = 1; i < cwds.length; i++) {
    assert.ok(cwds[i - 1]!.last_used_at >= cwds[i]!.last_used_at, "most recently used first");
  }
  assert.ok(!cwds.some((c) => c.cwd === "/d/0"), "the oldest fall off the end");
  await assert.rejects(
    () => d.client.call("agent.cwds", { limit: 5 } as never),
    (err) => err instanceof RpcError && err.code === -32602,
  );
});

Deno.test("agent.messages: before_seq reads the newest lines backwards, in seq order", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const agent = await d.client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ lines: 30, bytes: 100 }] }),
    cwd: t.work,
  });
  const done = await waitFor("agent done", async () => {
    const a = await d.client.agent.get({ id: agent.id });
    return a.status === "awaiting_review" ? a : undefined;
  });
  const last = done.last_seq;
  assert.ok(last >= 30, `last_seq ${last}`);
  const seqs = (page: { messages: Array<{ seq: number }> }) => page.messages.map((m) => m.seq);
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  const newest = await d.client.agent.messages({ id: agent.id, before_seq: last + 1, limit: 10 });
  assert.deepEqual(seqs(newest), range(last - 9, last), "the newest ten, ascending");
  assert.equal(newest.next_seq, last);
  assert.equal(newest.has_more, false);
  assert.equal(newest.has_older, true);

  const older = await d.client.agent.messages({
    id: agent.id,
    before_seq: newest.messages[0]!.seq,
    limit: 10,
  });
  assert.deepEqual(seqs(older), range(last - 19, last - 10));
  assert.equal(older.has_more, true, "lines were stored after this page");

  const oldest = await d.client.agent.messages({ id: agent.id, before_seq: 4, limit: 10 });
  assert.deepEqual(seqs(oldest), [1, 2, 3]);
  assert.equal(oldest.has_older, false);
  const none = await d.client.agent.messages({ id: agent.id, before_seq: 1 });
  assert.deepEqual(none, { messages: [], next_seq: 0, has_more: true, has_older: false });
  const beyond = await d.client.agent.messages({ id: agent.id, before_seq: last + 1000, limit: 2 });
  assert.deepEqual(seqs(beyond), [last - 1, last]);

  // Forward reads are unchanged (after_seq defaults to 0) and say whether older lines exist.
  const first = await d.client.agent.messages({ id: agent.id, limit: 5 });
  assert.deepEqual(seqs(first), [1, 2, 3, 4, 5]);
  assert.equal(first.has_older, false);
  assert.equal(first.has_more, true);
  const middle = await d.client.agent.messages({ id: agent.id, after_seq: 5, limit: 5 });
  assert.deepEqual(seqs(middle), [6, 7, 8, 9, 10]);
  assert.equal(middle.has_older, true);

  // after_seq and before_seq together, or a before_seq below 1: invalid params, naming the field.
  for (const params of [{ after_seq: 0, before_seq: 5 }, { after_seq: 3, before_seq: 10 }]) {
    await assert.rejects(
      () => d.client.agent.messages({ id: agent.id, ...params }),
      (err) =>
        err instanceof RpcError && err.code === -32602 &&
        JSON.stringify(err.data).includes("mutually exclusive") &&
        JSON.stringify(err.data).includes("before_seq"),
    );
  }
  await assert.rejects(
    () => d.client.agent.messages({ id: agent.id, before_seq: 0 }),
    (err) => err instanceof RpcError && err.code === -32602,
  );
  await assert.rejects(
    () => d.client.agent.messages({ id: "missing", before_seq: 5 }),
    (err) => err instanceof RpcError && err.reason === "not_found",
  );
});
