/** Contract pieces of pauses and budgets: the budget figures and the quota methods' texts. */
import { z } from "zod";
import { Priority } from "../models/mod.ts";

/** A cost budget: the agent pauses (never dies) once its cost reaches it. */
export const BudgetUsd = z.number().gt(0).max(100_000).describe(
  "budget in USD (0 < x <= 100000): the agent pauses once its total_cost_usd reaches it",
);

/** A turn budget: the agent pauses once its API round trips reach it. */
export const BudgetTurns = z.int().min(1).max(1_000_000).describe(
  "budget in API round trips (1..1000000): the agent pauses once num_turns reaches it",
);

/** The budget and priority params of `agent.create`. */
export const CREATE_QUOTA_PARAMS = {
  max_cost_usd: BudgetUsd.optional(),
  max_turns: BudgetTurns.optional(),
  priority: Priority.optional().describe("queue order when slots or headroom free up"),
};

/** `agent.set_budget`'s params beyond the id: a missing field keeps its budget, null clears it. */
export const SET_BUDGET_PARAMS = {
  max_cost_usd: BudgetUsd.nullable().optional(),
  max_turns: BudgetTurns.nullable().optional(),
};

/** `agent.resume`'s params beyond the id. */
export const RESUME_EXTRA_PARAMS = {
  override_budget: z.boolean().optional().describe(
    "an agent paused for its own budget continues anyway: the budgets it reached are cleared",
  ),
};

/** Summaries and descriptions of `agent.pause`, `agent.resume` and `agent.set_budget`. */
export const QUOTA_DOCS = {
  pause: {
    summary: "Pause a queued or running agent; its session is kept",
    description:
      "A running agent's process is stopped cleanly (stdin closed, SIGTERM, grace) and the agent becomes `paused` (reason `manual`) with its claude session kept; answers once the process is gone. A queued agent leaves the queue. `agent.resume` continues it; `agent.cancel` ends it.",
  },
  resume: {
    summary: "Continue a paused agent now, through the queue",
    description:
      "paused → queued: the agent's session continues (`--resume`) with the configured continuation prompt (or a follow-up's prompt that was waiting), within the concurrency caps. Refused with invalid_state unless the agent is paused, or while it is still past its budget (raise it with agent.set_budget, which resumes it, or pass override_budget to clear the agent's own budgets it reached; a daily or cwd cap is not overridden).",
  },
  set_budget: {
    summary: "Set or clear an agent's cost and turn budgets",
    description:
      "A missing field keeps its budget, null clears it. Reaching a budget pauses the agent (reason `budget`) before its next turn, and a proxied agent's requests are not forwarded past it; an agent paused for its budget that is within the new one continues in place.",
  },
} as const;
