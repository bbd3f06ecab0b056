/**
 * Test helpers for "0 acknowledged rows lost": record every line the daemon acknowledged (each
 * `message` event an SSE client saw: events go out only after COMMIT), then check that the
 * database still holds each one with the same bytes. Tests only.
 * @module
 */
import assert from "node:assert/strict";
import { type Client, parseSse } from "@hero/sdk";

/** Acknowledged lines: agent id → seq → raw line. */
export type AckedLines = Map<string, Map<number, string>>;

/** A running `GET /events` reader; `stop()` ends it. */
export interface AckReader {
  /** Lines seen with different bytes for a seq already acknowledged, or without their bytes. */
  conflicts: string[];
  /** How many message events this reader saw. */
  count(): number;
  /** The id of the last event it saw (`fromId` before the first). */
  lastId(): number;
  stop(): Promise<void>;
}

/**
 * Reads `GET /events` after event `fromId` into `acked` until stopped or the stream ends (a killed
 * daemon ends it; that is not an error). A replayed line must carry the bytes first seen for its
 * seq.
 */
export async function readAcked(
  fetchFn: typeof fetch,
  acked: AckedLines,
  fromId = 0,
): Promise<AckReader> {
  const abort = new AbortController();
  const response = await fetchFn("http://localhost/events", {
    headers: { accept: "text/event-stream", "last-event-id": String(fromId) },
  });
  assert.equal(response.status, 200);
  const conflicts: string[] = [];
  let count = 0;
  let lastId = fromId;
  const done = (async () => {
    try {
      const body = response.body!.pipeThrough(new TransformStream(), { signal: abort.signal });
      for await (const m of parseSse(body)) {
        if (m.id !== null) lastId = Number(m.id);
        if (m.event !== "message") continue;
        const data = JSON.parse(m.data) as { agent_id: string; seq: number; raw: string | null };
        if (data.raw === null) {
          // The test's lines are small enough to be inline; a bigger one cannot be compared.
          conflicts.push(`${data.agent_id} seq ${data.seq}: raw not inline`);
          continue;
        }
        let lines = acked.get(data.agent_id);
        if (!lines) acked.set(data.agent_id, lines = new Map());
        const before = lines.get(data.seq);
        if (before !== undefined && before !== data.raw) {
          conflicts.push(`${data.agent_id} seq ${data.seq}`);
        }
        lines.set(data.seq, data.raw);
        count++;
      }
    } catch {
      // Stopped, or the daemon went away: what was seen is kept.
    }
  })();
  return {
    conflicts,
    count: () => count,
    lastId: () => lastId,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

/**
 * Asserts that every acknowledged line is stored with its bytes and that each agent's seqs run
 * 1..last_seq without a gap. Returns how many acknowledged lines were checked.
 */
export async function assertAckedStored(client: Client, acked: AckedLines): Promise<number> {
  let checked = 0;
  for (const [id, lines] of acked) {
    const agent = await client.agent.get({ id });
    let after = 0;
    for (;;) {
      const page = await client.agent.messages({ id, after_seq: after, limit: 1000 });
      if (page.messages.length === 0) break;
      for (const m of page.messages) {
        assert.equal(m.seq, after + 1, `${id}: seqs are contiguous`);
        after = m.seq;
        const seen = lines.get(m.seq);
        if (seen !== undefined) {
          assert.equal(m.raw, seen, `${id} seq ${m.seq} holds the acknowledged bytes`);
          checked++;
        }
      }
    }
    assert.equal(after, agent.last_seq, `${id}: every seq up to last_seq is readable`);
    const lost = [...lines.keys()].filter((seq) => seq > after);
    assert.deepEqual(lost, [], `${id}: acknowledged lines lost`);
  }
  return checked;
}
