/**
 * The transcript of the agent page: a contiguous, seq-ordered window of the agent's stored lines.
 * It starts with the newest page only (never the whole history), grows downwards from the live
 * stream and upwards page by page when the operator scrolls up. Every line is keyed by its seq,
 * so a line seen twice (snapshot + stream replay, reconnects) is kept once, and a gap in the
 * stream is filled from `agent.messages` before later lines are shown.
 * @module
 */
import { signal } from "@preact/signals";
import type { Message, MessageEventData } from "@hero/sdk";
import { call, messageOf } from "./rpc.ts";

/** One stored line. `raw === null`: left out of the event for size; load it on demand. */
export interface Line {
  seq: number;
  ts: number;
  raw: string | null;
  bytes: number;
  type: string | null;
  parseError: boolean;
}

/** Lines per page. */
export const PAGE = 200;

/** The loaded lines, contiguous by seq. */
export const lines = signal<readonly Line[]>([]);
/** Loading older lines. */
export const olderState = signal<"idle" | "loading" | "error">("idle");
/** A load error to show. */
export const transcriptError = signal<string | null>(null);

let agentId = "";
const pending = new Map<number, Line>();
let filling: Promise<void> | null = null;

/** A stored line or a live event (they carry the same fields) as a transcript line. */
function toLine(m: Message | MessageEventData): Line {
  return {
    seq: m.seq,
    ts: m.ts,
    raw: m.raw,
    bytes: m.byte_length,
    type: m.type,
    parseError: m.parse_error,
  };
}

function maxSeq(): number {
  const all = lines.peek();
  return all.length > 0 ? all[all.length - 1]!.seq : firstSeq - 1;
}

/** Seq the window starts at when it is empty (the first line to expect). */
let firstSeq = 1;

/** The server said lines are stored before the window (`has_older` of the last backward read). */
const olderExists = signal(false);

/** True when older lines exist before the window. */
export function hasOlder(): boolean {
  return olderExists.value;
}

function appendContiguous(incoming: Line[]): void {
  for (const line of incoming) if (line.seq > maxSeq()) pending.set(line.seq, line);
  const add: Line[] = [];
  let next = maxSeq() + 1;
  while (pending.has(next)) {
    add.push(pending.get(next)!);
    pending.delete(next);
    next++;
  }
  if (add.length > 0) lines.value = [...lines.peek(), ...add];
  if (pending.size > 0) void fillGap();
}

async function fillGap(): Promise<void> {
  if (filling) return;
  filling = (async () => {
    try {
      while (pending.size > 0) {
        const after = maxSeq();
        const want = Math.min(...pending.keys()) - after - 1;
        if (want <= 0) {
          appendContiguous([]);
          continue;
        }
        const page = await call("agent.messages", {
          id: agentId,
          after_seq: after,
          limit: Math.min(1000, want),
        });
        if (page.messages.length === 0) break;
        appendContiguous(page.messages.map(toLine));
      }
    } catch (err) {
      transcriptError.value = `Cannot load missing lines: ${messageOf(err)}`;
    } finally {
      filling = null;
    }
  })();
  await filling;
}

/**
 * Loads the newest page of `id` (whose newest line is `lastSeq`): one backward read
 * (`before_seq`), so it does not rely on seqs being gap-free.
 */
export async function loadLatest(id: string, lastSeq: number, aroundSeq?: number): Promise<void> {
  agentId = id;
  pending.clear();
  lines.value = [];
  olderExists.value = false;
  firstSeq = 1;
  if (lastSeq <= 0) return;
  if (aroundSeq !== undefined && aroundSeq > 0 && lastSeq - aroundSeq >= PAGE - CONTEXT) {
    return await loadFrom(aroundSeq);
  }
  const page = await call("agent.messages", { id, before_seq: lastSeq + 1, limit: PAGE });
  firstSeq = page.messages[0]?.seq ?? lastSeq + 1;
  appendContiguous(page.messages.map(toLine));
  olderExists.value = page.has_older;
}

/** Lines shown above a line opened from a search hit. */
const CONTEXT = 20;

/**
 * Loads from a little before `seq` to the newest line (forward reads), so the window holds the
 * search hit and stays contiguous with the live stream.
 */
async function loadFrom(seq: number): Promise<void> {
  const before = await call("agent.messages", { id: agentId, before_seq: seq, limit: CONTEXT });
  firstSeq = before.messages[0]?.seq ?? seq;
  appendContiguous(before.messages.map(toLine));
  olderExists.value = before.has_older;
  for (;;) {
    const page = await call("agent.messages", { id: agentId, after_seq: maxSeq(), limit: 1000 });
    appendContiguous(page.messages.map(toLine));
    if (page.messages.length === 0 || !page.has_more) break;
  }
}

/** Adds lines from the stream (any order, duplicates ignored). */
export function applyLive(events: MessageEventData[]): void {
  appendContiguous(events.map(toLine));
}

/** Loads the page before the window (a backward read from its first line). */
export async function loadOlder(): Promise<void> {
  if (olderState.peek() === "loading" || !olderExists.peek()) return;
  olderState.value = "loading";
  try {
    const all = lines.peek();
    const first = all.length > 0 ? all[0]!.seq : firstSeq;
    const page = await call("agent.messages", { id: agentId, before_seq: first, limit: PAGE });
    const current = lines.peek();
    const head = current.length > 0 ? current[0]!.seq : firstSeq;
    if (head === first) {
      const older = page.messages.filter((m) => m.seq < head).map(toLine);
      if (older.length > 0) {
        lines.value = [...older, ...current];
        if (current.length === 0) firstSeq = older[0]!.seq;
      }
      olderExists.value = page.has_older;
    }
    olderState.value = "idle";
  } catch (err) {
    transcriptError.value = `Cannot load older lines: ${messageOf(err)}`;
    olderState.value = "error";
  }
}

/** Loads the full text of a line that was left out of the stream for size. */
export async function loadFull(seq: number): Promise<void> {
  const page = await call("agent.messages", { id: agentId, after_seq: seq - 1, limit: 1 });
  const m = page.messages[0];
  if (!m || m.seq !== seq) return;
  lines.value = lines.peek().map((l) => (l.seq === seq ? toLine(m) : l));
}
