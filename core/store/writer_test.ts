import assert from "node:assert/strict";
import { Agent } from "../models/mod.ts";
import { connectionOf } from "./_connection.ts";
import {
  AgentNotFoundError,
  type CommittedBatch,
  MessageWriter,
  type PendingLine,
  StorageError,
  StorageMonitor,
  type Store,
} from "./mod.ts";
import { jsonLine, sampleAgent, startHelper, tempStore } from "./_testing.ts";

function line(agentId: string, bytes: Uint8Array, extra: Partial<PendingLine> = {}): PendingLine {
  return {
    agentId,
    bytes,
    ts: Date.now(),
    type: "assistant",
    subtype: null,
    parseError: false,
    eofNoNewline: false,
    ...extra,
  };
}

Deno.test("MessageWriter stores 50 agents x 20,000 concurrent lines with contiguous seqs in batches <= maxRows", async () => {
  await using store = await tempStore();
  const AGENTS = 50;
  const LINES = 20_000;
  const CHUNK = 500;
  const maxRows = 1000;
  const ids = store.write(() =>
    Array.from({ length: AGENTS }, () => store.insertAgent(sampleAgent()).id)
  );
  const batchSizes: number[] = [];
  const seenUpTo = new Map<string, number>();
  let lateAcks = 0;
  const writer = new MessageWriter(store, {
    maxRows,
    onCommit(batch: CommittedBatch) {
      batchSizes.push(batch.lines.length);
      for (const l of batch.lines) seenUpTo.set(l.agent_id, l.seq);
    },
  });
  const padding = "x".repeat(300);

  async function produce(agentId: string): Promise<void> {
    for (let n = 1; n <= LINES; n += CHUNK) {
      const pending: Promise<void>[] = [];
      for (let i = n; i < n + CHUNK; i++) {
        pending.push(
          writer.append(line(agentId, jsonLine({ type: "assistant", n: i, padding })))
            .then(({ seq }) => {
              // The ack rule: a promise resolves only after onCommit saw its line.
              if ((seenUpTo.get(agentId) ?? 0) < seq) lateAcks++;
            }),
        );
      }
      await Promise.all(pending);
      const wait = writer.capacity();
      if (wait) await wait;
    }
  }

  const started = performance.now();
  await Promise.all(ids.map(produce));
  await writer.close();
  const seconds = (performance.now() - started) / 1000;
  const total = AGENTS * LINES;
  console.log(
    `ingest: ${total} lines in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} lines/s, ` +
      `${batchSizes.length} batches`,
  );

  assert.equal(lateAcks, 0);
  assert.equal(batchSizes.reduce((a, b) => a + b, 0), total);
  assert.ok(Math.max(...batchSizes) <= maxRows, `a batch had ${Math.max(...batchSizes)} lines`);

  const db = connectionOf(store).db;
  const perAgent = db.prepare(
    `SELECT a.id, a.last_seq, count(m.seq) AS n, min(m.seq) AS lo, max(m.seq) AS hi,
       count(DISTINCT m.seq) AS distinct_seqs
     FROM agents a JOIN messages m ON m.agent_key = a.agent_key GROUP BY a.agent_key`,
  ).all();
  assert.equal(perAgent.length, AGENTS);
  for (const row of perAgent) {
    assert.deepEqual(
      {
        last_seq: row.last_seq,
        n: row.n,
        lo: row.lo,
        hi: row.hi,
        distinct_seqs: row.distinct_seqs,
      },
      { last_seq: LINES, n: LINES, lo: 1, hi: LINES, distinct_seqs: LINES },
      String(row.id),
    );
  }
  // Seq order is append order: line n of each agent got seq n.
  const misplaced = db.prepare(
    "SELECT count(*) AS n FROM messages WHERE json_extract(CAST(raw AS TEXT), '$.n') != seq",
  ).get()!.n;
  assert.equal(misplaced, 0);
  const events = db.prepare(
    `SELECT count(*) AS n, count(DISTINCT agent_key || ':' || seq) AS pairs FROM events
     WHERE kind = 'message'`,
  ).get()!;
  assert.deepEqual({ ...events }, { n: total, pairs: total });
  for (const id of ids) assert.equal(store.getAgent(id)!.last_seq, LINES);
});

Deno.test("MessageWriter stores a 32 MiB line and invalid UTF-8 byte for byte", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const writer = new MessageWriter(store);
  const big = new Uint8Array(32 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 65_536) crypto.getRandomValues(big.subarray(i, i + 65_536));
  const invalid = new Uint8Array([
    0x7b,
    0xff,
    0xfe,
    0xc3,
    0x28,
    0xed,
    0xa0,
    0x80,
    0x00,
    0x0d,
    0x7d,
  ]);
  const backing = new Uint8Array([9, 9, 0x41, 0x42, 9]);
  const [a, b, c] = await Promise.all([
    writer.append(line(id, big, { type: null, parseError: true })),
    writer.append(line(id, invalid, { type: null, parseError: true, eofNoNewline: true })),
    writer.append(line(id, backing.subarray(2, 4))),
  ]);
  await writer.close();
  assert.deepEqual([a.seq, b.seq, c.seq], [1, 2, 3]);
  assert.ok(store.readMessageBytes(id, 1)!.every((byte, i) => byte === big[i]));
  assert.equal(store.readMessageBytes(id, 1)!.length, big.length);
  assert.deepEqual(store.readMessageBytes(id, 2), invalid);
  assert.deepEqual(store.readMessageBytes(id, 3), new Uint8Array([0x41, 0x42]));
  const [m2, m3] = store.readMessages(id, 1, 10);
  assert.equal(m2!.byte_length, invalid.length);
  assert.equal(m2!.raw, new TextDecoder().decode(invalid));
  assert.ok(m2!.raw.includes("\ufffd"));
  assert.deepEqual([m2!.parse_error, m2!.eof_no_newline, m2!.type], [true, true, null]);
  assert.equal(m3!.raw, "AB");
  assert.equal(store.readMessageBytes(id, 4), undefined);
});

Deno.test("a failed commit rejects the batch with StorageError and later lines keep seqs contiguous", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent()).id;
  const b = store.insertAgent(sampleAgent()).id;
  let failNext = false;
  const committed: number[] = [];
  const writer = new MessageWriter(store, {
    maxDelayMs: 5,
    onCommit: (batch) => committed.push(batch.lines.length),
    beforeCommit() {
      if (failNext) {
        failNext = false;
        throw new Error("disk I/O error");
      }
    },
  });
  assert.deepEqual((await writer.append(line(a, jsonLine({ n: 1 })))).seq, 1);
  const events = store.lastEventId();

  failNext = true;
  const failed = await Promise.allSettled([
    writer.append(line(a, jsonLine({ n: 2 }), { agentPatch: { result: "lost" } })),
    writer.append(line(b, jsonLine({ n: 1 }))),
    writer.append(line(a, jsonLine({ n: 3 }))),
  ]);
  for (const outcome of failed) {
    assert.equal(outcome.status, "rejected");
    const err = (outcome as PromiseRejectedResult).reason;
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, "storage_error");
    assert.equal(err.message, "Cannot store lines: disk I/O error");
  }
  assert.equal(store.lastEventId(), events, "no events from the failed batch");
  assert.equal(store.getAgent(a)!.result, null);
  assert.equal(store.getAgent(a)!.last_seq, 1);

  // A trigger standing in for an I/O error inside the statements themselves.
  connectionOf(store).db.exec(`CREATE TRIGGER fail_magic BEFORE INSERT ON messages
    WHEN NEW.byte_length = 13 BEGIN SELECT RAISE(ABORT, 'magic failure'); END`);
  const magic = await Promise.allSettled([
    writer.append(line(b, new TextEncoder().encode("ok"))),
    writer.append(line(a, new TextEncoder().encode("thirteen byte"))),
  ]);
  assert.deepEqual(magic.map((o) => o.status), ["rejected", "rejected"]);
  assert.match(String((magic[0] as PromiseRejectedResult).reason), /magic failure/);
  connectionOf(store).db.exec("DROP TRIGGER fail_magic");

  const after = await Promise.all([
    writer.append(line(a, jsonLine({ n: 2 }))),
    writer.append(line(b, jsonLine({ n: 1 }))),
    writer.append(line(a, jsonLine({ n: 3 }))),
  ]);
  await writer.close();
  assert.deepEqual(after.map((r) => r.seq), [2, 1, 3]);
  const db = connectionOf(store).db;
  const seqs = db.prepare(
    `SELECT a.id, group_concat(m.seq) AS seqs FROM messages m JOIN agents a USING (agent_key)
     GROUP BY a.id ORDER BY a.id`,
  ).all().map((r) => [r.id, r.seqs]);
  assert.deepEqual(seqs, [[a, "1,2,3"], [b, "1"]].sort((x, y) => x[0]! < y[0]! ? -1 : 1));
  assert.equal(store.integrityCheck(), "ok");
});

Deno.test("agentPatch fields merge per agent (later lines win) with one agent event per patched agent", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent({ created_at: 1 })).id;
  const b = store.insertAgent(sampleAgent({ created_at: 1 })).id;
  const batches: CommittedBatch[] = [];
  const writer = new MessageWriter(store, { onCommit: (batch) => batches.push(batch) });
  const results = await Promise.all([
    writer.append(line(a, jsonLine({ n: 1 }), { agentPatch: { turn_count: 1, result: "first" } })),
    writer.append(line(b, jsonLine({ n: 1 }))),
    writer.append(line(a, jsonLine({ n: 2 }), { agentPatch: { turn_count: 2, session_id: "s" } })),
    writer.append(line(a, jsonLine({ n: 3 }), { agentPatch: { result: undefined } })),
  ]);
  await writer.close();
  assert.equal(batches.length, 1);
  const [batch] = batches;
  const agentA = store.getAgent(a)!;
  assert.deepEqual(
    [agentA.turn_count, agentA.result, agentA.session_id, agentA.last_seq],
    [2, "first", "s", 3],
  );
  assert.ok(agentA.updated_at > 1, "patched agents get updated_at");
  assert.equal(store.getAgent(b)!.updated_at, 1, "unpatched agents keep updated_at");
  assert.deepEqual([...batch!.agentEventIds.keys()], [a]);
  const agentEvent = batch!.agentEventIds.get(a)!;
  assert.ok(agentEvent > Math.max(...results.map((r) => r.eventId)), "agent event after the lines");
  assert.deepEqual(batch!.agents.map((x) => x.id).sort(), [a, b].sort());
  for (const agent of batch!.agents) Agent.parse(agent);
  assert.deepEqual(batch!.agents.find((x) => x.id === a), agentA);
  assert.deepEqual(batch!.lines.map((l) => [l.agent_id === a ? "a" : "b", l.seq]), [
    ["a", 1],
    ["b", 1],
    ["a", 2],
    ["a", 3],
  ]);
  const events = store.readEvents(0, 100).filter((e) => e.kind === "message");
  assert.deepEqual(events.map((e) => e.id), results.map((r) => r.eventId));
});

Deno.test("MessageWriter commits after maxDelayMs, or at once on flush()", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const quick = new MessageWriter(store, { maxDelayMs: 20 });
  const started = performance.now();
  await quick.append(line(id, jsonLine({ n: 1 })));
  assert.ok(performance.now() - started >= 15);
  await quick.close();

  const slow = new MessageWriter(store, { maxDelayMs: 60_000 });
  let done = false;
  const pending = slow.append(line(id, jsonLine({ n: 2 }))).then(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(done, false, "committed before maxDelayMs without a flush");
  await slow.flush();
  await pending;
  assert.equal(store.getAgent(id)!.last_seq, 2);
  await slow.close();
});

Deno.test("capacity() asks producers to wait while queued bytes exceed maxQueuedBytes", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const writer = new MessageWriter(store, { maxDelayMs: 60_000, maxQueuedBytes: 1000 });
  const bytes = new Uint8Array(300);
  const first = writer.append(line(id, bytes));
  assert.equal(writer.capacity(), undefined);
  const more = [writer.append(line(id, bytes)), writer.append(line(id, bytes))];
  const wait = writer.capacity();
  assert.ok(wait instanceof Promise);
  await wait;
  assert.equal(writer.capacity(), undefined);
  assert.deepEqual((await Promise.all([first, ...more])).map((r) => r.seq), [1, 2, 3]);
  await writer.close();
});

Deno.test("MessageWriter rejects unknown agents, bad lines and appends after close()", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const writer = new MessageWriter(store);
  await assert.rejects(writer.append(line("ghost", jsonLine({}))), AgentNotFoundError);
  await assert.rejects(
    writer.append(line(id, jsonLine({}), { agentPatch: { status: "failed" } as never })),
    TypeError,
  );
  await assert.rejects(writer.append(line(id, "text" as never)), TypeError);
  await assert.rejects(writer.append(line(id, jsonLine({}), { ts: 1.5 })), TypeError);
  await writer.close();
  await assert.rejects(writer.append(line(id, jsonLine({}))), /writer is closed/);
  assert.throws(() => new MessageWriter(store, { maxRows: 0 }), RangeError);
  assert.throws(() => new MessageWriter(store, { maxDelayMs: -1 }), RangeError);
  assert.equal(store.getAgent(id)!.last_seq, 0);
});

Deno.test("lines of an agent deleted while queued fail alone; forgetAgent() makes the next append recheck", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent()).id;
  const b = store.insertAgent(sampleAgent()).id;
  const writer = new MessageWriter(store, { maxDelayMs: 60_000 });
  const doomed = writer.append(line(a, jsonLine({ n: 1 })));
  const kept = writer.append(line(b, jsonLine({ n: 1 })));
  store.deleteAgent(a);
  await writer.flush();
  await assert.rejects(doomed, AgentNotFoundError);
  assert.equal((await kept).seq, 1);
  writer.forgetAgent(a);
  await assert.rejects(writer.append(line(a, jsonLine({ n: 2 }))), AgentNotFoundError);
  await writer.close();
});

Deno.test("readMessages() pages by seq within limit and byte budget", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const writer = new MessageWriter(store);
  await Promise.all(
    Array.from(
      { length: 1500 },
      (_, i) => writer.append(line(id, new Uint8Array(10).fill(i % 256))),
    ),
  );
  await writer.close();
  assert.equal(store.countMessages(id), 1500);
  assert.equal(store.readMessages(id, 0, 5000).length, 1000, "limit clamped to 1000");
  assert.deepEqual(store.readMessages(id, 1495, 10).map((m) => m.seq), [
    1496,
    1497,
    1498,
    1499,
    1500,
  ]);
  assert.deepEqual(store.readMessages(id, 0, 100, { maxBytes: 35 }).map((m) => m.seq), [1, 2, 3]);
  assert.deepEqual(store.readMessages(id, 0, 100, { maxBytes: 1 }).map((m) => m.seq), [1]);
  assert.deepEqual(store.readMessages(id, 1500, 100), []);
  assert.throws(() => store.readMessages(id, 0, 0), RangeError);
  assert.throws(() => store.readMessages(id, -1, 10), RangeError);
  assert.throws(() => store.readMessages(id, Number.NaN, 10), RangeError);
});

Deno.test("onCommit may append more lines, and a throwing onCommit does not fail committed lines", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent()).id;
  const b = store.insertAgent(sampleAgent()).id;
  let followUp: Promise<unknown> | undefined;
  let calls = 0;
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const writer = new MessageWriter(store, {
      maxDelayMs: 1,
      onCommit(batch) {
        calls++;
        if (!followUp && batch.lines[0]!.agent_id === a) {
          followUp = writer.append(line(b, jsonLine({ reply: true })));
        }
        throw new Error("subscriber bug");
      },
    });
    assert.equal((await writer.append(line(a, jsonLine({ n: 1 })))).seq, 1);
    assert.equal(((await followUp) as { seq: number }).seq, 1);
    await writer.close();
  } finally {
    console.error = originalError;
  }
  assert.equal(calls, 2);
  assert.equal(errors.length, 2);
  assert.match(String((errors[0] as unknown[])[0]), /Cannot run onCommit: subscriber bug/);
  assert.equal(store.getAgent(b)!.last_seq, 1);
});

Deno.test("MessageWriter commits a lone line after idleDelayMs; under load its window follows the commit cost", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const commits: number[] = [];
  let commitCostMs = 0;
  const writer = new MessageWriter(store, {
    maxDelayMs: 400,
    idleDelayMs: 1,
    onCommit: (batch) => commits.push(batch.lines.length),
    // Stands in for a slow disk: the commit blocks the event loop like an fsync would.
    beforeCommit: () => {
      const until = performance.now() + commitCostMs;
      while (performance.now() < until) { /* busy */ }
    },
  });
  const line = (n: number) => ({
    agentId: id,
    bytes: jsonLine({ n }),
    ts: Date.now(),
    type: "x",
    subtype: null,
    parseError: false,
    eofNoNewline: false,
  });
  const timed = async (lines: number[]) => {
    const started = performance.now();
    await Promise.all(lines.map((n) => writer.append(line(n))));
    return performance.now() - started;
  };
  // Idle writer: the first line does not wait for the 400 ms window.
  assert.ok((await timed([1])) < 200, "a lone line waited the whole window");
  // Busy but cheap commits (~1 ms): the next lines still share one batch, soon.
  assert.ok((await timed([2, 3, 4])) < 200, "cheap commits waited the whole window");
  assert.deepEqual(commits, [1, 3]);
  // Expensive commits (60 ms): the window grows to twice that, so more lines share each commit.
  commitCostMs = 60;
  await timed([5]);
  const waited = await timed([6, 7, 8]);
  assert.ok(waited >= 150, `an expensive commit was followed by a short window (${waited} ms)`);
  assert.deepEqual(commits, [1, 3, 1, 3]);
  await writer.close();
});

Deno.test("MessageWriter with idleDelayMs 0: an idle writer commits the lines of this turn together, before any timer fires", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const order: string[] = [];
  const writer = new MessageWriter(store, {
    inline: true,
    maxDelayMs: 400,
    idleDelayMs: 0,
    onCommit: (batch) => order.push(`commit ${batch.lines.length}`),
  });
  // A timer set before the appends: a writer that waited for a timer of its own would come after.
  const timer = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push("timer"))));
  const acks = [1, 2, 3].map((n) => writer.append(line(id, jsonLine({ n }))));
  await timer;
  assert.deepEqual((await Promise.all(acks)).map((a) => a.seq), [1, 2, 3]);
  assert.deepEqual(order, ["commit 3", "timer"]);
  await writer.close();
});

/** Makes the database "full": it may not grow past its current size (SQLITE_FULL). */
function fillDisk(store: Store): () => void {
  const db = connectionOf(store).db;
  const pages = db.prepare("PRAGMA page_count").get()!.page_count as number;
  db.exec(`PRAGMA max_page_count = ${pages}`);
  return () => db.exec("PRAGMA max_page_count = 4294967294");
}

function seqsByAgent(store: Store): Map<string, string> {
  const rows = connectionOf(store).db.prepare(
    `SELECT a.id, group_concat(m.seq) AS seqs, group_concat(json_extract(CAST(m.raw AS TEXT), '$.n'))
       AS ns FROM agents a JOIN messages m USING (agent_key) GROUP BY a.id`,
  ).all();
  return new Map(rows.map((r) => [String(r.id), `${r.seqs}|${r.ns}`]));
}

Deno.test("a full disk fails no line: the writer holds them, blocks capacity(), reports storage_full, retries and commits them in order once space returns", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent()).id;
  const b = store.insertAgent(sampleAgent()).id;
  const states: string[] = [];
  const monitor = new StorageMonitor({ onChange: (s) => states.push(s.state) });
  const committed: string[] = [];
  // Inline: fillDisk() limits the store's own connection.
  const writer = new MessageWriter(store, {
    inline: true,
    maxDelayMs: 2,
    maxRows: 50,
    retryMinMs: 10,
    retryMaxMs: 40,
    monitor,
    onCommit: (batch) => committed.push(...batch.lines.map((l) => `${l.agent_id}:${l.seq}`)),
  });
  const padding = "x".repeat(400);
  assert.equal((await writer.append(line(a, jsonLine({ n: 1, padding })))).seq, 1);

  const freeSpace = fillDisk(store);
  const acks: Array<Promise<{ seq: number }>> = [];
  let settled = 0;
  for (let n = 2; n <= 301; n++) {
    for (const id of [a, b]) {
      const ack = writer.append(line(id, jsonLine({ n, padding })));
      ack.then(() => settled++, () => settled++);
      acks.push(ack);
    }
  }
  await waitUntil(() => writer.status().retries >= 3);
  const status = writer.status();
  assert.equal(status.state, "storage_full");
  assert.match(status.last_error!, /database or disk is full/);
  assert.ok(status.since! <= Date.now());
  assert.equal(status.held_lines, 600);
  assert.ok(writer.capacity() instanceof Promise, "producers are held back while storage fails");
  assert.equal(settled, 0, "no line was acknowledged or failed while the disk was full");
  assert.equal(store.getAgent(a)!.last_seq, 1);

  freeSpace();
  const results = await Promise.all(acks);
  const wait = writer.capacity();
  assert.equal(wait, undefined, "producers may read again");
  await writer.close();
  assert.deepEqual(states, ["storage_full", "ok"]);
  const after = writer.status();
  assert.deepEqual([after.state, after.held_lines, after.retries, after.since], ["ok", 0, 0, null]);
  // Append order kept per agent: line n of agent a has seq n, of agent b seq n - 1.
  assert.deepEqual(results.slice(0, 4).map((r) => r.seq), [2, 1, 3, 2]);
  const seqs = seqsByAgent(store);
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i).join(",");
  assert.equal(seqs.get(a), `${range(1, 301)}|${range(1, 301)}`);
  assert.equal(seqs.get(b), `${range(1, 300)}|${range(2, 301)}`);
  assert.equal(committed.length, 601);
  assert.equal(store.integrityCheck(), "ok");
});

Deno.test("a write lock held by another process past busy_timeout reports storage_busy and the held lines commit once it is released", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const states: string[] = [];
  const monitor = new StorageMonitor({ onChange: (s) => states.push(s.state) });
  const writer = new MessageWriter(store, { maxDelayMs: 2, retryMinMs: 50, monitor });
  const { child, drained } = await startHelper(
    "hold_lock.ts",
    // past the 5 s busy_timeout, with room for a slow start of the first attempt
    [store.path, "9000"],
    "LOCKED",
  );
  // The writer waits for the lock in its thread: the event loop keeps ticking meanwhile (it
  // used to stall for the whole 5 s busy_timeout per attempt).
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 20);
  const acks = [1, 2, 3].map((n) => writer.append(line(id, jsonLine({ n }))));
  const results = await Promise.all(acks).finally(() => clearInterval(ticker));
  assert.ok(longestGap < 2_000, `the event loop stalled for ${longestGap} ms`);
  await drained;
  assert.equal((await child.status).code, 0);
  assert.deepEqual(results.map((r) => r.seq), [1, 2, 3]);
  assert.deepEqual(states, ["storage_busy", "ok"]);
  assert.match(writer.status().last_error!, /database is locked/);
  await writer.close();
  assert.equal(seqsByAgent(store).get(id), "1,2,3|1,2,3");
});

Deno.test("giveUp() rejects held lines with StorageError once storage still fails", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  // Inline: fillDisk() limits the store's own connection.
  const writer = new MessageWriter(store, { inline: true, maxDelayMs: 1, retryMinMs: 10 });
  const freeSpace = fillDisk(store);
  const ack = writer.append(line(id, jsonLine({ n: 1, padding: "x".repeat(5000) })));
  await waitUntil(() => writer.status().state === "storage_full");
  writer.giveUp();
  await assert.rejects(
    ack,
    (err) => err instanceof StorageError && /disk is full/.test(err.message),
  );
  assert.equal(writer.status().held_lines, 0);
  freeSpace();
  assert.equal((await writer.append(line(id, jsonLine({ n: 2 })))).seq, 1);
  await writer.close();
});

async function waitUntil(probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for the writer");
    await new Promise((r) => setTimeout(r, 10));
  }
}
