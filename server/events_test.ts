/** GET /events: live stream, filters, validation, caps and Last-Event-ID resume across a restart. */
import assert from "node:assert/strict";
import { fakePrompt } from "@hero/core/testing";
import { createClient, parseSse, type ServiceEvent } from "@hero/sdk";
import { startDaemon } from "./daemon.ts";
import { startInProcess, startProduction, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";
import { parseLastEventId } from "./events.ts";

Deno.test("events: bad Last-Event-ID → 400, unknown agent → 404, beyond the cap → 503", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env, { events: { maxClients: 1 } });
  for (const value of ["-1", "1e309", "NaN", "abc", "1.5", "99999999999999999"]) {
    const r = await d.fetch(`http://localhost/events?last_event_id=${encodeURIComponent(value)}`);
    assert.equal(r.status, 400, value);
    await r.body?.cancel();
    const h = await d.fetch("http://localhost/events", { headers: { "last-event-id": value } });
    assert.equal(h.status, 400, value);
    await h.body?.cancel();
  }
  const unknown = await d.fetch("http://localhost/events?agent=nope");
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();

  const first = await d.fetch("http://localhost/events");
  assert.equal(first.status, 200);
  assert.match(first.headers.get("content-type")!, /^text\/event-stream/);
  const second = await d.fetch("http://localhost/events");
  assert.equal(second.status, 503);
  await second.body?.cancel();
  await first.body?.cancel();
  await waitFor("client gone", () => d.daemon.events.clients === 0);
  assert.equal(parseLastEventId("42"), 42);
});

Deno.test("events: live agent and message events; ?agent= filter; message data shape", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const other = await d.client.agent.create({ prompt: "other", cwd: t.work });
  const agent = await d.client.agent.create({ prompt: "watched", cwd: t.work });
  // Raw SSE: check the wire format itself.
  const r = await d.fetch(`http://localhost/events?agent=${agent.id}&last_event_id=0`);
  const seen: Array<{ id: string | null; event: string; data: Record<string, unknown> }> = [];
  for await (const m of parseSse(r.body!)) {
    const data = JSON.parse(m.data);
    seen.push({ id: m.id, event: m.event, data });
    if (m.event === "agent" && data.status === "awaiting_review") break;
  }
  for (const e of seen) {
    assert.match(e.id!, /^\d+$/);
    assert.equal(
      e.event === "agent" ? e.data.id : e.data.agent_id,
      agent.id,
      "only the watched agent",
    );
  }
  const msg = seen.find((e) => e.event === "message" && e.data.type === "assistant")!;
  assert.deepEqual(Object.keys(msg.data).sort(), [
    "agent_id",
    "byte_length",
    "parse_error",
    "raw",
    "seq",
    "subtype",
    "truncated",
    "ts",
    "type",
  ]);
  assert.equal(typeof msg.data.raw, "string");
  assert.ok(JSON.parse(msg.data.raw as string).message);
  assert.equal(msg.data.truncated, false);
  assert.ok(seen.some((e) => e.event === "agent" && e.data.status === "running"));
  void other;
});

Deno.test("events: lines over the inline limit are sent without raw", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env, { events: { maxInlineRawBytes: 1000 } });
  const agent = await d.client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ bigLine: 5000 }] }),
    cwd: t.work,
  });
  const abort = new AbortController();
  const big: ServiceEvent[] = [];
  for await (
    const e of d.client.events({ agent: agent.id, lastEventId: 0, signal: abort.signal })
  ) {
    if (e.event === "message" && e.data.byte_length === 5000) big.push(e);
    if (e.event === "agent" && e.data.status === "awaiting_review") break;
  }
  abort.abort();
  assert.equal(big.length, 1);
  const e = big[0]!;
  assert.ok(e.event === "message" && e.data.raw === null && e.data.truncated === true);
});

Deno.test("events: Last-Event-ID resumes across a daemon restart with 0 gaps and 0 duplicates", async () => {
  await using t = await tempEnv();
  let daemon = await startDaemon({ env: t.env });
  const transport = unixFetch(daemon.socketPath);
  try {
    const client = createClient({ fetch: transport.fetch });
    for (let i = 0; i < 3; i++) {
      await client.agent.create({
        prompt: fakePrompt({ auto: true, steps: [{ lines: 20, bytes: 300 }] }),
        cwd: t.work,
      });
    }
    // Read part of the stream, then disconnect.
    const abort1 = new AbortController();
    const received: ServiceEvent[] = [];
    for await (
      const e of client.events({ lastEventId: 0, signal: abort1.signal, reconnect: false })
    ) {
      received.push(e);
      if (received.length === 25) break;
    }
    abort1.abort();
    const resumeFrom = received.at(-1)!.id;

    // Let the first agents finish; one more hangs so the shutdown has work to record.
    const hanging = await client.agent.create({
      prompt: fakePrompt({ steps: [{ init: true }, { hang: true }] }),
      cwd: t.work,
    });
    await waitFor("all settled or running", async () => {
      const { agents } = await client.agent.list();
      return agents.every((a) =>
        a.id === hanging.id ? a.status === "running" : a.status === "awaiting_review"
      );
    });
    await daemon.shutdown();

    // Restart on the same database; new events follow the old ones.
    daemon = await startDaemon({ env: t.env });
    const after = await client.agent.create({ prompt: "after restart", cwd: t.work });
    await waitFor(
      "after-restart agent done",
      async () => (await client.agent.get({ id: after.id })).status === "awaiting_review",
    );

    const expected = daemon.engine.store.readEvents(0, 1000).map((e) => e.id);
    const last = expected.at(-1)!;
    const abort2 = new AbortController();
    for await (const e of client.events({ lastEventId: resumeFrom, signal: abort2.signal })) {
      received.push(e);
      if (e.id >= last) break;
    }
    abort2.abort();
    const ids = received.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, "0 duplicates");
    assert.deepEqual(ids, expected, "0 gaps: every stored event, in order");
  } finally {
    transport.close();
    await daemon.shutdown();
  }
});

Deno.test("events: a reader that stops is dropped; a slower one catches up from the DB with no loss", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env, {
    events: { maxBacklogBytes: 256 * 1024, maxBacklogMs: 1000 },
  });
  // A raw connection that asks for the stream and never reads.
  const conn = await Deno.connect({ transport: "unix", path: d.daemon.socketPath });
  await conn.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  await waitFor("stalled client subscribed", () => d.daemon.events.clients === 1);
  // A healthy reader alongside.
  const abort = new AbortController();
  const healthy: ServiceEvent[] = [];
  const reading = (async () => {
    for await (const e of d.client.events({ signal: abort.signal })) healthy.push(e);
  })().catch(() => {});
  await waitFor("healthy client subscribed", () => d.daemon.events.clients === 2);

  const agent = await d.client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ lines: 300, bytes: 20_000 }] }),
    cwd: t.work,
  });
  await waitFor(
    "stalled client dropped",
    () => d.daemon.events.droppedTotal === 1 && d.daemon.events.clients === 1,
  );
  await waitFor(
    "healthy client saw everything",
    () =>
      healthy.some((e) =>
        e.event === "agent" && e.data.id === agent.id && e.data.status === "awaiting_review"
      ),
    30_000,
  );
  const seqs = healthy.filter((e) => e.event === "message" && e.data.agent_id === agent.id)
    .map((e) => e.event === "message" ? e.data.seq : 0);
  assert.deepEqual(
    seqs,
    Array.from({ length: seqs.length }, (_, i) => i + 1),
    "every line, in order",
  );
  assert.ok(seqs.length >= 300, `healthy client got ${seqs.length} lines`);
  const ids = healthy.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, "no duplicates");
  abort.abort();
  await reading;
  // The dropped connection ends once its buffered bytes are read.
  const buf = new Uint8Array(64 * 1024);
  const deadline = Date.now() + 10_000;
  let closed = false;
  while (Date.now() < deadline) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) {
      closed = true;
      break;
    }
  }
  assert.ok(closed, "the stalled client's connection was closed");
  try {
    conn.close();
  } catch {
    // already closed
  }
});

Deno.test("events: an idle stream gets heartbeat comments", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env, { events: { heartbeatMs: 300 } });
  const r = await d.fetch("http://localhost/events");
  const reader = r.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 5_000;
  while (!text.includes(": hb\n\n") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  assert.match(text, /^retry: 2000\n: connected\n\n/);
  assert.ok(text.includes(": hb\n\n"), text);
});

Deno.test("events: agent.delete publishes a durable agent_deleted tombstone, live and on replay", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const kept = await d.client.agent.create({ prompt: "kept", cwd: t.work });
  const doomed = await d.client.agent.create({ prompt: "doomed", cwd: t.work });
  for (const a of [kept, doomed]) {
    await waitFor(
      "review",
      async () => (await d.client.agent.get({ id: a.id })).status === "awaiting_review",
    );
  }
  await d.client.agent.complete({ id: doomed.id });
  const before = d.daemon.engine.store.lastEventId();

  // Live: one stream of everything and one of the doomed agent only, both open before the delete.
  const all = await d.fetch(`http://localhost/events?last_event_id=${before}`);
  const one = await d.fetch(`http://localhost/events?agent=${doomed.id}&last_event_id=${before}`);
  const firstOf = async (r: Response) => {
    for await (const m of parseSse(r.body!)) {
      if (m.event === "agent_deleted") return m;
    }
    throw new Error("the stream ended without a tombstone");
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const live = Promise.race([
    Promise.all([firstOf(all), firstOf(one)]),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no live tombstone within 10 s")), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const started = Date.now();
  assert.deepEqual(await d.client.agent.delete({ id: doomed.id }), {
    id: doomed.id,
    deleted: true,
  });
  const tombstoneId = d.daemon.engine.store.lastEventId();
  for (const m of await live) {
    assert.equal(m.id, String(tombstoneId));
    const data = JSON.parse(m.data);
    assert.deepEqual(Object.keys(data).sort(), ["deleted_at", "id"]);
    assert.equal(data.id, doomed.id);
    assert.ok(data.deleted_at >= started && data.deleted_at <= Date.now());
  }

  // Replay from the start: the deleted agent's other events are gone, its tombstone is not.
  const replayed: Array<{ id: number; event: string; agent: string }> = [];
  const abort = new AbortController();
  const deadline = setTimeout(() => abort.abort(), 10_000);
  for await (
    const e of d.client.events({ lastEventId: 0, signal: abort.signal })
  ) {
    const agent = e.event === "message" ? e.data.agent_id : e.data.id;
    replayed.push({ id: e.id, event: e.event, agent });
    if (e.id >= tombstoneId) break;
  }
  clearTimeout(deadline);
  abort.abort();
  assert.deepEqual(
    replayed.filter((e) => e.agent === doomed.id),
    [{ id: tombstoneId, event: "agent_deleted", agent: doomed.id }],
  );
  assert.ok(replayed.some((e) => e.agent === kept.id), "the other agent's history is intact");

  // Last-Event-ID (the header a reconnecting EventSource sends) just before it: the tombstone.
  const resumed = await d.fetch("http://localhost/events", {
    headers: { "last-event-id": String(tombstoneId - 1) },
  });
  const again = await firstOf(resumed);
  assert.equal(again.id, String(tombstoneId));
  assert.equal(JSON.parse(again.data).id, doomed.id);
  // The deleted agent's own stream is gone.
  const gone = await d.fetch(`http://localhost/events?agent=${doomed.id}`);
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
});
