/** agent.list filters and keyset pagination over 10,000 agents stored directly in the DB. */
import assert from "node:assert/strict";
import { type AgentKind, type AgentStatus, newId } from "@hero/core/models";
import { RpcError } from "@hero/sdk";
import { startInProcess, tempEnv } from "./testing/daemon.ts";

Deno.test("agent.list: filters and keyset pagination over 10k agents", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const { store } = d.daemon.engine;
  const other = `${t.dir}/other`;
  const expected = new Map<string, { status: AgentStatus; cwd: string; kind: AgentKind }>();
  const base = Date.now() - 20_000;
  const paths: Record<number, AgentStatus[]> = {
    0: [],
    1: ["running", "awaiting_review"],
    2: ["running", "awaiting_review", "completed"],
    3: ["failed"],
    4: ["cancelled"],
  };
  store.write(() => {
    for (let i = 0; i < 10_000; i++) {
      const id = newId(base + i);
      const cwd = i % 3 === 0 ? other : t.work;
      const kind: AgentKind = i % 7 === 0 ? "planner" : "standard";
      store.insertAgent({
        id,
        prompt: `p${i}`,
        cwd,
        model: "claude-haiku-4-5",
        effort: "low",
        kind,
      });
      let status: AgentStatus = "queued";
      for (const next of paths[i % 5]!) {
        store.transition(id, next);
        status = next;
      }
      expected.set(id, { status, cwd, kind });
    }
  });

  // Everything, newest first, in pages of 500: every agent exactly once.
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  const started = performance.now();
  for (;;) {
    const page = await d.client.agent.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    pages++;
    seen.push(...page.agents.map((a) => a.id));
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  const elapsed = performance.now() - started;
  assert.equal(pages, 20);
  assert.equal(seen.length, 10_000);
  assert.equal(new Set(seen).size, 10_000);
  assert.deepEqual(seen, [...expected.keys()].reverse(), "newest first");
  assert.ok(elapsed / pages < 500, `${(elapsed / pages).toFixed(0)} ms per page of 500`);

  async function all(params: Parameters<typeof d.client.agent.list>[0]): Promise<string[]> {
    const ids: string[] = [];
    let next: string | null = null;
    do {
      const page = await d.client.agent.list({
        ...params,
        limit: 333,
        ...(next ? { cursor: next } : {}),
      });
      ids.push(...page.agents.map((a) => a.id));
      next = page.next_cursor;
    } while (next);
    return ids;
  }
  const want = (pred: (a: { status: AgentStatus; cwd: string; kind: AgentKind }) => boolean) =>
    [...expected].filter(([, a]) => pred(a)).map(([id]) => id).reverse();

  assert.deepEqual(await all({ cwd: other }), want((a) => a.cwd === other));
  assert.deepEqual(
    await all({ status: ["failed", "cancelled"] }),
    want((a) => a.status === "failed" || a.status === "cancelled"),
  );
  assert.deepEqual(
    await all({ bucket: "running" }),
    want((a) => a.status === "queued" || a.status === "running"),
  );
  assert.deepEqual(
    await all({ bucket: "awaiting_review" }),
    want((a) => a.status === "awaiting_review"),
  );
  assert.deepEqual(
    await all({ bucket: "completed" }),
    want((a) => ["completed", "failed", "cancelled"].includes(a.status)),
  );
  assert.deepEqual(
    await all({
      bucket: "completed",
      status: ["failed", "queued"],
      cwd: t.work,
      kind: ["planner"],
    }),
    want((a) => a.status === "failed" && a.cwd === t.work && a.kind === "planner"),
  );
  assert.deepEqual(await all({ bucket: "running", status: ["failed"] }), []);

  const first = await d.client.agent.list();
  assert.equal(first.agents.length, 50, "default page size");
  await assert.rejects(
    () => d.client.agent.list({ cursor: "garbage" }),
    (err) => err instanceof RpcError && err.code === -32602 && err.data?.field === "cursor",
  );
  await assert.rejects(
    () => d.client.agent.list({ limit: 501 }),
    (err) => err instanceof RpcError && err.code === -32602,
  );
});
