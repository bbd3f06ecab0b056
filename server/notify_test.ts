/** Webhook notifications from the daemon running under its production permission set. */
import assert from "node:assert/strict";
import { fakePrompt } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

Deno.test("notify: the production daemon POSTs to the configured webhook when an agent needs a person", async () => {
  const bodies: Array<Record<string, unknown>> = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      bodies.push(await req.json());
      return new Response(null, { status: 204 });
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}/notify`;
  await using t = await tempEnv({
    HERO_ORCHESTRATOR_NOTIFY_URL: url,
    HERO_ORCHESTRATOR_NOTIFY_LINK_BASE: "http://127.0.0.1:8470",
  });
  await using _daemon = await spawnDaemon(t.env);
  const transport = unixFetch(t.socketPath);
  try {
    const client = createClient({ fetch: transport.fetch });
    const agent = await client.agent.create({
      prompt: fakePrompt([{ init: true }, { text: "ok" }, { result: { result: "finished" } }]),
      cwd: t.work,
      name: "notified",
    });
    await waitFor("the notification", () => bodies.length >= 1);
    assert.equal(bodies[0]!.type, "agent.awaiting_review");
    assert.equal(bodies[0]!.title, 'Agent "notified" is waiting for review');
    assert.equal(bodies[0]!.link, `http://127.0.0.1:8470/agents/${agent.id}`);
    assert.equal((bodies[0]!.agent as { id: string }).id, agent.id);
  } finally {
    transport.close();
  }
});
