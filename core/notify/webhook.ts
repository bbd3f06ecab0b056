/**
 * Webhook notifications: one JSON POST per agent that starts needing a person (and per permission
 * prompt that waits for an answer), delivered in order,
 * retried with exponential back-off, never blocking the engine (the bus listener only enqueues).
 * @module
 */
import type { EngineEvent, EventBus } from "../events/mod.ts";
import type { NotifySettings } from "../config/mod.ts";
import type { Log } from "@hero/service/log";
import type { Agent } from "../models/mod.ts";
import { approvalAttention, type Attention, attentionFor, AttentionTracker } from "./attention.ts";

export interface WebhookNotifierOptions {
  bus: EventBus;
  settings: NotifySettings & { url: string };
  /** The agent of a permission prompt (prompts are notified with their agent); none: not notified. */
  getAgent?: (id: string) => Agent | undefined;
  /** Injected for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  log?: Log;
}

/** What the notifier has done so far (for `system.health` and tests). */
export interface WebhookStats {
  delivered: number;
  /** Notifications given up after every retry failed. */
  failed: number;
  /** Notifications dropped because the queue was full. */
  dropped: number;
  queued: number;
  lastError: string | null;
}

export interface WebhookNotifier {
  stats(): WebhookStats;
  /** Stops listening; waits at most `graceMs` for queued notifications, then abandons them. */
  close(graceMs?: number): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Starts delivering notifications for events published on `bus`. */
export function startWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const { settings } = options;
  const doFetch = options.fetch ?? fetch;
  const log = options.log ?? (() => {});
  const tracker = new AttentionTracker();
  const queue: Attention[] = [];
  const stop = new AbortController();
  const stats: WebhookStats = { delivered: 0, failed: 0, dropped: 0, queued: 0, lastError: null };
  let wake: (() => void) | null = null;
  let inFlight = false;

  const unsubscribe = options.bus.subscribe((event: EngineEvent) => {
    if (event.kind === "agent_deleted") {
      tracker.forget(event.agent_id);
      return;
    }
    let note: Attention | null = null;
    if (event.kind === "approval") {
      // A new prompt (its answer is published too, and needs nobody).
      const agent = event.approval.state === "pending"
        ? options.getAgent?.(event.agent_id)
        : undefined;
      if (agent) {
        note = approvalAttention(event.approval, agent, event.id, { linkBase: settings.linkBase });
      }
    } else if (event.kind === "agent" && tracker.entered(event.agent)) {
      note = attentionFor(event.agent, event.id, { linkBase: settings.linkBase });
    }
    if (!note) return;
    queue.push(note);
    if (queue.length > settings.maxQueue) {
      queue.shift();
      stats.dropped++;
    }
    wake?.();
  });

  async function attempt(note: Attention): Promise<void> {
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    const res = await doFetch(settings.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "hero_orchestrator",
        // Receivers that dedupe (or a bridge that retries) can key on this.
        "idempotency-key": `hero-orchestrator-${note.event_id}`,
      },
      body: JSON.stringify(note),
      signal: AbortSignal.any([timeout, stop.signal]),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
  }

  async function deliver(note: Attention): Promise<void> {
    let delay = settings.backoffMs;
    for (let tries = 0;; tries++) {
      try {
        await attempt(note);
        stats.delivered++;
        return;
      } catch (err) {
        stats.lastError = err instanceof Error ? err.message : String(err);
        if (stop.signal.aborted) return;
        if (tries >= settings.retries) {
          stats.failed++;
          log("warn", "Cannot deliver a notification: giving up after retries", {
            event_id: note.event_id,
            agent: note.agent.id,
            error: stats.lastError,
          });
          return;
        }
        await sleep(delay * (0.5 + Math.random()), stop.signal);
        if (stop.signal.aborted) return;
        delay = Math.min(delay * 2, settings.maxBackoffMs);
      }
    }
  }

  const loop = (async () => {
    while (!stop.signal.aborted) {
      const note = queue.shift();
      if (!note) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      inFlight = true;
      await deliver(note);
      inFlight = false;
    }
  })();

  return {
    stats: () => ({ ...stats, queued: queue.length }),
    async close(graceMs = 2_000) {
      unsubscribe();
      const deadline = Date.now() + graceMs;
      while ((queue.length > 0 || inFlight) && Date.now() < deadline) {
        await sleep(20, stop.signal);
      }
      stop.abort();
      wake?.();
      await loop;
    },
  };
}
