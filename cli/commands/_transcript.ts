/**
 * Prints an agent's stored lines, then (when following) its live lines from the event stream
 * until it settles. Without gaps or duplicates: the event id is taken before the stored lines
 * are read, the stream replays from there, and lines already printed (by seq) are skipped.
 * @module
 */
import type { Agent, Message } from "@hero/sdk";
import type { CliContext } from "../context.ts";
import { renderMessage, SETTLED } from "./_format.ts";

/** How lines are printed: readable, the raw stream-json line, the stored row as JSON, or not. */
export type TranscriptFormat = "text" | "raw" | "json" | "none";

/** Options of {@linkcode printTranscript}. */
export interface TranscriptOptions {
  follow: boolean;
  format: TranscriptFormat;
  /** Stop following (Ctrl-C is handled by the runtime). */
  signal?: AbortSignal;
}

function print(ctx: CliContext, m: Message, format: TranscriptFormat): void {
  if (format === "none") return;
  if (format === "raw") ctx.stdout.write(m.raw.endsWith("\n") ? m.raw : `${m.raw}\n`);
  else if (format === "json") ctx.stdout.write(JSON.stringify(m) + "\n");
  else ctx.stdout.write(renderMessage(m, ctx.color));
}

/** Prints stored lines after `afterSeq` up to the newest; returns the last printed seq. */
async function drain(
  ctx: CliContext,
  id: string,
  afterSeq: number,
  format: TranscriptFormat,
): Promise<number> {
  const client = ctx.client();
  let seq = afterSeq;
  for (;;) {
    const page = await client.agent.messages({ id, after_seq: seq });
    for (const m of page.messages) {
      if (m.seq <= seq) continue;
      print(ctx, m, format);
      seq = m.seq;
    }
    if (!page.has_more || page.messages.length === 0) return seq;
  }
}

/**
 * Prints the transcript; when `follow`, keeps printing live lines until the agent is
 * `awaiting_review`, `completed`, `failed` or `cancelled`. Returns the agent as last seen.
 */
export async function printTranscript(
  ctx: CliContext,
  id: string,
  options: TranscriptOptions,
): Promise<Agent> {
  const client = ctx.client();
  const from = options.follow ? (await client.system.health()).checks.events.last_event_id : 0;
  let lastSeq = await drain(ctx, id, 0, options.format);
  let agent: Agent = await client.agent.get({ id });
  if (!options.follow || SETTLED.has(agent.status)) {
    if (agent.last_seq > lastSeq) lastSeq = await drain(ctx, id, lastSeq, options.format);
    return agent;
  }
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (
      const event of client.events({ agent: id, lastEventId: from, signal: stop.signal })
    ) {
      if (event.event === "approval") continue; // `approvals` lists them
      if (event.event === "agent_deleted") {
        // Deleted while followed (e.g. from the admin): nothing more will come.
        if (event.data.id === id) throw new Error(`Cannot follow agent ${id}: it was deleted`);
        continue;
      }
      if (event.event === "message") {
        const m = event.data;
        if (m.seq <= lastSeq) continue;
        if (m.seq === lastSeq + 1 && m.raw !== null) {
          print(ctx, { ...m, raw: m.raw, eof_no_newline: false }, options.format);
          lastSeq = m.seq;
        } else {
          lastSeq = await drain(ctx, id, lastSeq, options.format);
        }
      } else if (event.data.id === id) {
        agent = event.data;
        if (SETTLED.has(agent.status)) break;
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
  }
  if (agent.last_seq > lastSeq) await drain(ctx, id, lastSeq, options.format);
  return agent;
}
