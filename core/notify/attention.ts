/**
 * When an agent needs a person: the status changes that a person should hear about, worded once
 * for every channel (webhook, browser notifications). Pure.
 * @module
 */
import type { Agent, AgentStatus, Approval } from "../models/mod.ts";

/** Statuses in which an agent waits on a person. */
export const NEEDS_PERSON: readonly AgentStatus[] = ["awaiting_review", "failed"];

/**
 * Whether `agent` waits on a person: in review, failed, or paused at a budget (only a person
 * raises it; rate-limit and storage pauses continue by themselves, a manual one was a person's).
 */
export function needsPerson(agent: Pick<Agent, "status" | "kind" | "pause_reason">): boolean {
  if (agent.kind === "shadow") return false;
  return NEEDS_PERSON.includes(agent.status) ||
    (agent.status === "paused" && agent.pause_reason === "budget");
}

/** A notification, as the webhook receives it (JSON). */
export interface Attention {
  /** `agent.awaiting_review`, `agent.failed`, `agent.paused` (at a budget), `approval.pending`. */
  type: string;
  /** The durable event id of the change: a receiver can drop a duplicate by it. */
  event_id: number;
  /** When the change was committed, epoch ms. */
  ts: number;
  title: string;
  message: string;
  /** Deep link to the agent in the admin, when its public base URL is configured. */
  link: string | null;
  agent: Pick<
    Agent,
    | "id"
    | "name"
    | "status"
    | "cwd"
    | "model"
    | "kind"
    | "error_code"
    | "error_message"
    | "error_fix"
    | "total_cost_usd"
    | "turn_count"
  >;
}

function label(agent: Agent): string {
  return agent.name?.trim() || agent.id;
}

/** One line of at most `max` characters. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The notification for `agent` entering its current status; null when nobody needs to know. */
export function attentionFor(
  agent: Agent,
  eventId: number,
  options: { linkBase: string | null },
): Attention | null {
  if (!needsPerson(agent)) return null;
  const name = label(agent);
  const failed = agent.status === "failed";
  const paused = agent.status === "paused";
  return {
    type: `agent.${agent.status}`,
    event_id: eventId,
    ts: agent.updated_at,
    title: failed
      ? `Agent "${name}" failed`
      : paused
      ? `Agent "${name}" is paused at its budget`
      : `Agent "${name}" is waiting for review`,
    message: failed
      ? oneLine(`${agent.error_code ?? "failed"}: ${agent.error_message ?? ""}`, 300)
      : paused
      ? oneLine(`${agent.error_message ?? "Paused at its budget"}; raise it to continue`, 300)
      : oneLine(agent.result ?? "The turn finished.", 300),
    link: options.linkBase ? `${options.linkBase}/agents/${encodeURIComponent(agent.id)}` : null,
    agent: {
      id: agent.id,
      name: agent.name,
      status: agent.status,
      cwd: agent.cwd,
      model: agent.model,
      kind: agent.kind,
      error_code: agent.error_code,
      error_message: agent.error_message,
      error_fix: agent.error_fix,
      total_cost_usd: agent.total_cost_usd,
      turn_count: agent.turn_count,
    },
  };
}

/** What the call asks for: its command, path or URL (more telling than claude's description). */
function askedFor(approval: Approval): string {
  const input = approval.input;
  const first = input.command ?? input.file_path ?? input.path ?? input.url;
  return typeof first === "string" ? first : approval.description ?? JSON.stringify(input);
}

/** The notification for a permission prompt of `agent` that waits for an answer. */
export function approvalAttention(
  approval: Approval,
  agent: Agent,
  eventId: number,
  options: { linkBase: string | null },
): Attention {
  const note = attentionFor({ ...agent, status: "awaiting_review" }, eventId, options)!;
  return {
    ...note,
    type: "approval.pending",
    ts: approval.created_at,
    title: `Agent "${label(agent)}" asks to use ${approval.tool_name}`,
    message: oneLine(askedFor(approval), 300),
    agent: { ...note.agent, status: agent.status },
  };
}

/**
 * Follows agent rows as they are published and reports each ENTRY into a status that needs a
 * person, once: later updates of the same row in the same status (usage, exit code) are not new.
 * Remembers the last status of at most `maxAgents` agents (oldest forgotten first).
 */
export class AttentionTracker {
  #last = new Map<string, AgentStatus>();
  #max: number;

  constructor(options: { maxAgents?: number } = {}) {
    this.#max = options.maxAgents ?? 10_000;
  }

  /** True when `agent` just entered a status that needs a person. */
  entered(agent: Agent): boolean {
    const previous = this.#last.get(agent.id);
    this.#last.delete(agent.id);
    this.#last.set(agent.id, agent.status);
    if (this.#last.size > this.#max) {
      const oldest = this.#last.keys().next().value;
      if (oldest !== undefined) this.#last.delete(oldest);
    }
    return previous !== agent.status && needsPerson(agent);
  }

  forget(agentId: string): void {
    this.#last.delete(agentId);
  }
}
