/** `search.*` over the real socket against the daemon as it ships (production permission set) and the fake claude. */
import assert from "node:assert/strict";
import { fakePrompt } from "@hero/core/testing";
import { RpcError } from "@hero/sdk";
import { startProduction, tempEnv, waitFor } from "../../testing/daemon.ts";

Deno.test("search.query finds a stored answer after commit; bad syntax is invalid params, not a 500", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const agent = await d.client.agent.create({
    prompt: fakePrompt({
      auto: true,
      steps: [{ text: "the ocelot sleeps under /srv/zoo/cage.txt" }],
    }),
    cwd: t.work,
    name: "zookeeper",
  });
  const page = await waitFor("indexed answer", async () => {
    const p = await d.client.search.query({ q: '"ocelot sleeps"' });
    return p.hits.length > 1 ? p : undefined;
  });
  assert.equal(page.hits[0]!.agent_id, agent.id);
  assert.equal(page.hits[0]!.name, "zookeeper");
  assert.equal(page.hits[0]!.field, "assistant");
  assert.ok(page.hits[0]!.seq! > 0);
  assert.equal(
    page.hits[0]!.snippet.filter((p) => p.match).map((p) => p.text).join("|"),
    "ocelot sleeps",
  );
  // The prompt (echoed back as a replayed user line) holds the words too.
  assert.deepEqual(page.hits.map((h) => h.field), ["assistant", "prompt"]);
  assert.equal(page.total, 2);
  const byName = await d.client.search.query({ q: "zookeeper", limit: 5 });
  assert.deepEqual(byName.hits.map((h) => [h.agent_id, h.seq]), [[agent.id, null]]);
  assert.equal((await d.client.search.query({ q: "ocelot", cwd: "/elsewhere" })).hits.length, 0);

  for (const q of ['"ocelot', "-ocelot", "***"]) {
    await assert.rejects(
      () => d.client.search.query({ q }),
      (err) =>
        err instanceof RpcError && err.code === -32602 &&
        (err.data as { field?: string }).field === "q" && /Cannot search/.test(err.message),
      `query ${q}`,
    );
  }
  await assert.rejects(
    () => d.client.search.query({ q: "ocelot", cursor: "not-a-cursor" }),
    (err) => err instanceof RpcError && err.code === -32602,
  );
  await assert.rejects(
    () => d.client.search.query({ q: "" }),
    (err) => err instanceof RpcError && err.code === -32602,
  );

  const status = await d.client.search.status({ check: true });
  assert.equal(status.ready, true);
  assert.equal(status.integrity, "ok");
  assert.equal(status.thinking, false);

  const rebuilding = await d.client.search.rebuild({});
  assert.ok(rebuilding.rebuilt_at !== null);
  await waitFor("rebuilt index", async () => {
    const p = await d.client.search.query({ q: '"ocelot sleeps"' });
    return p.hits.length === 2 ? p : undefined;
  });
  assert.equal((await d.client.search.status({})).ready, true);
});
