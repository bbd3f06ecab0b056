import assert from "node:assert/strict";
import { parseSse, type SseMessage, subscribeEvents } from "./events.ts";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of parseSse(streamOf(chunks))) out.push(m);
  return out;
}

Deno.test("parseSse() handles comments, multi-line data, CRLF/CR and any chunking", async () => {
  const text =
    ': hello\r\nretry: 10\r\nid: 1\r\nevent: agent\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 2\revent: message\rdata: x\r\r' +
    "data: no-id-change\n\n" + "id\ndata: cleared\n\n";
  const expected = [
    { id: "1", event: "agent", data: '{"a":\n1}' },
    { id: "2", event: "message", data: "x" },
    { id: "2", event: "message", data: "no-id-change" },
    { id: "", event: "message", data: "cleared" },
  ];
  assert.deepEqual(await collect([text]), expected);
  // Every split point, including inside \r\n and multi-byte characters, gives the same result.
  const withEmoji = text.replace("x", "x😀é");
  const want = expected.map((e) => (e.data === "x" ? { ...e, data: "x😀é" } : e));
  const bytes = new TextEncoder().encode(withEmoji);
  for (let i = 1; i < bytes.length; i++) {
    const parts = [bytes.slice(0, i), bytes.slice(i)];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    const out: SseMessage[] = [];
    for await (const m of parseSse(stream)) out.push(m);
    assert.deepEqual(out, want, `split at ${i}`);
  }
});

Deno.test("parseSse() ignores an id containing NUL and a trailing event without blank line", async () => {
  assert.deepEqual(await collect(["id: 5\n\ndata: a\nid: bad\0\n\ndata: tail"]), [
    { id: "5", event: "message", data: "a" },
  ]);
});

Deno.test("subscribeEvents() resumes with Last-Event-ID after the stream ends", async () => {
  const requests: Array<{ url: string; last: string | null }> = [];
  const bodies = [
    'id: 1\nevent: agent\ndata: {"id":"a"}\n\nid: 2\nevent: message\ndata: {"seq":1}\n\n',
    'id: 3\nevent: message\ndata: {"seq":2}\n\n',
  ];
  const fetchFn = (url: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    requests.push({ url, last: headers.get("last-event-id") });
    const body = bodies.shift();
    return Promise.resolve(
      body === undefined
        ? new Response("gone", { status: 404 })
        : new Response(body, { headers: { "content-type": "text/event-stream" } }),
    );
  };
  const sub = subscribeEvents({ fetch: fetchFn, baseUrl: "http://x/", agent: "a b", retryMs: 1 });
  const ids: number[] = [];
  await assert.rejects(async () => {
    for await (const e of sub) ids.push(e.id);
  }, /HTTP 404/);
  assert.deepEqual(ids, [1, 2, 3]);
  assert.equal(sub.lastEventId, 3);
  assert.deepEqual(requests, [
    { url: "http://x/events?agent=a%20b", last: null },
    { url: "http://x/events?agent=a%20b", last: "2" },
    { url: "http://x/events?agent=a%20b", last: "3" },
  ]);
});

Deno.test("subscribeEvents() yields agent_deleted tombstones and skips unknown events", async () => {
  const body = 'id: 1\nevent: agent\ndata: {"id":"a"}\n\n' +
    'id: 2\nevent: agent_deleted\ndata: {"id":"a","deleted_at":5}\n\n' +
    "id: 3\nevent: ping\ndata: {}\n\n";
  const fetchFn = () =>
    Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
  const sub = subscribeEvents({ fetch: fetchFn, reconnect: false });
  const events = [];
  for await (const e of sub) events.push(e);
  assert.deepEqual(events.map((e) => [e.id, e.event]), [[1, "agent"], [2, "agent_deleted"]]);
  const tombstone = events[1]!;
  assert.ok(tombstone.event === "agent_deleted");
  assert.deepEqual(tombstone.data, { id: "a", deleted_at: 5 });
  assert.equal(sub.lastEventId, 2);
});
