/**
 * Waiting for an agent to settle: no live run, and not waiting in the queue (unless the daemon is
 * shutting down, when a queued agent stays queued for the next daemon).
 * @module
 */
import type { Agent } from "../models/mod.ts";
import type { AgentRun } from "./run.ts";

/** What settling needs of the supervisor. */
export interface SettleContext {
  run(id: string): AgentRun | undefined;
  queued(id: string): boolean;
  shuttingDown(): boolean;
  get(id: string): Agent;
}

/** Resolves with agent `id`'s row once it has no live run and is not waiting to start. */
export async function settle(id: string, ctx: SettleContext): Promise<Agent> {
  for (;;) {
    const run = ctx.run(id);
    if (run) {
      await run.done;
      continue;
    }
    if (ctx.queued(id)) {
      if (ctx.shuttingDown()) return ctx.get(id);
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    return ctx.get(id);
  }
}
