/** The SSE relay against a scripted upstream stream. */
import assert from "node:assert/strict";
import { noLog } from "@hero/service/log";
import { EventRelay, formatSse, summarize } from "./relay.ts";
import type { Upstream } from "./upstream.ts";

const encoder = new TextEncoder();

interface Scripted extends Upstream {
  calls: Array<{ path: string; headers: Record<string, string> }>;
  /** Bytes the relay has pulled from the upstream body so far. */
  pulled: () => number;
  cancelled: () => boolean;
  push(text: string): void;
  end(): void;
}

function scripted(status = 200, endless?: () => string): Scripted {
  const calls: Scripted["calls"] = [];
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull(c) {
      if (endless) {
        const chunk = encoder.encode(endless());
        pulled += chunk.byteLength;
        c.enqueue(chunk);
      }
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return {
    calls,
    pulled: () => pulled,
    cancelled: () => cancelled,
    push(text) {
      const chunk = encoder.encode(text);
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    end() {
      controller.close();
    },
    fetch(path, init = {}) {
      calls.push({ path, headers: init.headers as Record<string, string> });
      if (status !== 200) {
        return Promise.resolve(new Response('{"error":{"status":404}}', { status }));
      }
      return Promise.resolve(
        new Response(body, {
          headers: { "content-type": "text/event-stream" },
        }),
      );
    },
    close() {},
  };
}

async function readAll(r: Response): Promise<string> {
  return await r.text();
}

function agentEvent(id: number, status = "running"): string {
  return formatSse(String(id), "agent", JSON.stringify({ id: "a1", status }));
}

function messageEvent(id: number, type: string, raw: string | null): string {
  return formatSse(
    String(id),
    "message",
    JSON.stringify({ agent_id: "a1", seq: id, type, raw, truncated: raw === null }),
  );
}

Deno.test("relay: one agent's events pass through with their ids; Last-Event-ID header wins", async () => {
  const up = scripted();
  const relay = new EventRelay({ upstream: up, log: noLog });
  const r = await relay.handle(
    new Request("http://x/events?agent=a1&last_event_id=5", { headers: { "last-event-id": "7" } }),
  );
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(up.calls[0]!.path, "/events?agent=a1");
  assert.equal(up.calls[0]!.headers["last-event-id"], "7");
  up.push(": connected\n\n" + agentEvent(8) + messageEvent(9, "system", '{"type":"system"}'));
  up.push(formatSse("10", "other", "x"));
  up.end();
  const text = await readAll(r);
  assert.match(text, /^retry: 2000\n/);
  assert.ok(text.includes('id: 8\nevent: agent\ndata: {"id":"a1","status":"running"}\n\n'));
  assert.ok(text.includes("id: 9\nevent: message\n"));
  assert.ok(!text.includes("event: other"));
  assert.equal(relay.clients, 0);
});

Deno.test("relay: the query last_event_id is used without the header", async () => {
  const up = scripted();
  const relay = new EventRelay({ upstream: up, log: noLog });
  const r = await relay.handle(new Request("http://x/events?last_event_id=42"));
  up.end();
  await readAll(r);
  assert.equal(up.calls[0]!.path, "/events");
  assert.equal(up.calls[0]!.headers["last-event-id"], "42");
});

Deno.test("relay: the dashboard view keeps agent events and assistant lines only", async () => {
  const up = scripted();
  const relay = new EventRelay({ upstream: up, log: noLog, maxSummaryRawBytes: 50 });
  const r = await relay.handle(new Request("http://x/events"));
  up.push(agentEvent(1));
  up.push(messageEvent(2, "system", "{}"));
  up.push(messageEvent(3, "assistant", '{"type":"assistant"}'));
  up.push(messageEvent(4, "user", "{}"));
  up.push(messageEvent(5, "assistant", `{"type":"assistant","x":"${"a".repeat(100)}"}`));
  up.end();
  const text = await readAll(r);
  const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(ids, [1, 3, 5]);
  const last = JSON.parse(/id: 5\nevent: message\ndata: (.*)\n/.exec(text)![1]!);
  assert.equal(last.raw, null);
  assert.equal(last.truncated, true);
});

Deno.test("relay: bad ids and agents are refused before reaching the server", async () => {
  const up = scripted();
  const relay = new EventRelay({ upstream: up, log: noLog });
  for (
    const req of [
      new Request("http://x/events", { headers: { "last-event-id": "-1" } }),
      new Request("http://x/events", { headers: { "last-event-id": "1e309" } }),
      new Request("http://x/events?last_event_id=NaN"),
      new Request("http://x/events?agent=../../x"),
      new Request(`http://x/events?agent=${"a".repeat(65)}`),
    ]
  ) {
    const r = await relay.handle(req);
    await r.body?.cancel();
    assert.equal(r.status, 400, req.url);
  }
  assert.equal(up.calls.length, 0);
});

Deno.test("relay: the server's error status comes through (404 for a deleted agent)", async () => {
  const relay = new EventRelay({ upstream: scripted(404), log: noLog });
  const r = await relay.handle(new Request("http://x/events?agent=gone"));
  assert.equal(r.status, 404);
  await r.body?.cancel();
});

Deno.test("relay: a page that takes nothing is dropped with bounded buffering", async () => {
  let n = 0;
  const up = scripted(200, () => messageEvent(++n, "message", `{"pad":"${"x".repeat(4000)}"}`));
  const relay = new EventRelay({
    upstream: up,
    log: noLog,
    stallMs: 300,
    highWaterBytes: 16 * 1024,
  });
  const r = await relay.handle(new Request("http://x/events?agent=a1"));
  await new Promise((res) => setTimeout(res, 800));
  // Never read: the relay read at most its high-water mark plus a message or two upstream.
  assert.ok(up.pulled() < 64 * 1024, `pulled ${up.pulled()} bytes`);
  assert.ok(up.cancelled(), "the upstream stream was released");
  assert.equal(relay.clients, 0);
  await assert.rejects(() => r.text());
});

Deno.test("relay: at most maxClients streams; close() ends them all", async () => {
  const relay = new EventRelay({ upstream: scripted(), log: noLog, maxClients: 1 });
  const first = await relay.handle(new Request("http://x/events"));
  const second = await relay.handle(new Request("http://x/events"));
  assert.equal(second.status, 503);
  await second.body?.cancel();
  relay.close();
  assert.match(await first.text(), /retry: 2000/);
  const after = await relay.handle(new Request("http://x/events"));
  assert.equal(after.status, 503);
  await after.body?.cancel();
});

Deno.test("summarize() and formatSse() keep SSE framing intact", () => {
  assert.equal(
    formatSse("1", "message", "a\nb"),
    "id: 1\nevent: message\ndata: a\ndata: b\n\n",
  );
  assert.equal(summarize({ id: "1", event: "agent", data: "{}" }, 10), "{}");
  assert.equal(
    summarize({ id: "1", event: "agent_deleted", data: '{"id":"a"}' }, 10),
    '{"id":"a"}',
  );
  assert.equal(summarize({ id: "1", event: "message", data: "not json" }, 10), null);
  assert.equal(summarize({ id: "1", event: "ping", data: "{}" }, 10), null);
});
