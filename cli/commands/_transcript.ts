/**
 * Prints an agent's stored lines, then (when following) its live lines from the event stream
 * until it settles. Without gaps or duplicates: the event id is taken before the stored lines
 * are read, the stream replays from there, and lines already printed (by seq) are skipped.
 * Following in the text format also prints what the model writes as it writes it (`delta`
 * events); the stored assistant line that follows then prints only what was not shown yet.
 * @module
 */
import type { Agent, DeltaEventData, Message } from "@hero/sdk";
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

/** Text printed live (deltas) and not yet matched by its stored assistant line. */
class LiveText {
  #ctx: CliContext;
  #agentId: string;
  /** Message id → the text streamed for it. */
  #streamed = new Map<string | null, string>();
  #open = false;

  constructor(ctx: CliContext, agentId: string) {
    this.#ctx = ctx;
    this.#agentId = agentId;
  }

  onDelta(d: DeltaEventData): void {
    if (d.agent_id !== this.#agentId || d.kind !== "text" || d.parent_tool_use_id !== null) return;
    const out = this.#ctx.stdout;
    if (!this.#open) out.write("   … ");
    this.#open = true;
    out.write(d.text.replace(/\n/g, "\n      "));
    this.#streamed.set(d.message_id, (this.#streamed.get(d.message_id) ?? "") + d.text);
  }

  /** Ends the live line; returns `m` without the text blocks already streamed (null: nothing left). */
  settle(m: Message): Message | null {
    if (this.#open) this.#ctx.stdout.write("\n");
    this.#open = false;
    if (m.type !== "assistant" || this.#streamed.size === 0) return m;
    let value: { message?: { id?: string; content?: unknown[] } };
    try {
      value = JSON.parse(m.raw);
    } catch {
      return m;
    }
    const streamed = this.#streamed.get(value.message?.id ?? null);
    const content = value.message?.content;
    if (streamed === undefined || !Array.isArray(content)) return m;
    const rest = content.filter((b) =>
      !(b && typeof b === "object" && (b as { type?: string }).type === "text" &&
        streamed.includes(String((b as { text?: unknown }).text)))
    );
    if (rest.length === content.length) return m;
    if (rest.length === 0) return null;
    return {
      ...m,
      raw: JSON.stringify({ ...value, message: { ...value.message, content: rest } }),
    };
  }
}

function print(ctx: CliContext, m: Message, format: TranscriptFormat, live?: LiveText): void {
  if (format === "none") return;
  if (live) {
    const left = live.settle(m);
    if (left === null) return;
    m = left;
  }
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
  live?: LiveText,
): Promise<number> {
  const client = ctx.client();
  let seq = afterSeq;
  for (;;) {
    const page = await client.agent.messages({ id, after_seq: seq });
    for (const m of page.messages) {
      if (m.seq <= seq) continue;
      print(ctx, m, format, live);
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
  const live = options.format === "text" ? new LiveText(ctx, id) : undefined;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (
      const event of client.events({
        agent: id,
        lastEventId: from,
        signal: stop.signal,
        ...(live ? { onDelta: (d: DeltaEventData) => live.onDelta(d) } : {}),
      })
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
          print(ctx, { ...m, raw: m.raw, eof_no_newline: false }, options.format, live);
          lastSeq = m.seq;
        } else {
          lastSeq = await drain(ctx, id, lastSeq, options.format, live);
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
