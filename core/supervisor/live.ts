/**
 * Working with a running agent through its live session: `send` (a live idle process starts the
 * next turn at once, a running turn gets the prompt queued by the CLI, no process → the session
 * is resumed), `interrupt` (the turn ends, the process stays), `set_model`,
 * `set_permission_mode`; completing and cancelling, which end a live session with the agent.
 * @module
 */
import {
  type Agent,
  AgentPermissionMode,
  InvalidStateError,
  ValidationError,
} from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import { type Store, supervisedAgentOfSession } from "../store/mod.ts";
import { CLI_PERMISSION_MODES, type CliPermissionMode } from "../claude/mod.ts";
import { checkFollowUpAgent, checkFollowUpPrompt } from "./create_input.ts";
import { requeueFollowUp, workingMode } from "./requeue.ts";
import type { AgentRun } from "./run.ts";
import type { Delivery } from "./session.ts";
import { stopShadows } from "./shadow_stop.ts";

/** What `send` did: wrote to the live process (`started`/`queued`) or resumed the session. */
export type SendDelivery = Delivery | "resumed";

/** Options of a sent prompt. */
export interface SendOptions {
  /** A planner leaves plan mode to carry its plan out. */
  execute?: boolean;
  /** A spoken turn (its own system prompt: always a new process). */
  voice?: boolean;
  /** A running turn takes the prompt at its next tool boundary rather than after its result. */
  steer?: boolean;
}

/** What the live-control operations need from the supervisor. */
export interface LiveContext {
  store: Store;
  settings: EngineSettings;
  runOf(id: string): AgentRun | undefined;
  mustGet(id: string): Agent;
  /** Queues a stored agent (its turn waits on its row); returns its row. */
  enqueue(agent: Agent, voice: boolean): Agent;
  /** Takes a queued agent out of the queue. */
  dequeue(id: string): void;
  /** An imported session continues as a new, supervised agent resuming that session. */
  adopt(agent: Agent, prompt: string, voice: boolean): Promise<Agent>;
  /** A paused agent was cancelled (its pause may have been what held the queue). */
  pauseEnded?(): void;
  /** The budget the agent has reached (per agent, daily, per directory), or null. */
  budgetReached?(agent: Agent): string | null;
}

/** How long `interrupt` waits for the interrupted turn's result. */
const INTERRUPT_SETTLE_MS = 5_000;

/** Delivers a prompt now: to the live process when there is one, else by resuming the session. */
export async function sendPrompt(
  ctx: LiveContext,
  id: string,
  prompt: string,
  options: SendOptions,
): Promise<{ agent: Agent; delivery: SendDelivery }> {
  checkFollowUpPrompt(prompt);
  const agent = ctx.mustGet(id);
  if (agent.kind === "imported") {
    // Adopted once: the session has one supervised owner, which takes every later prompt.
    const owner = agent.session_id
      ? supervisedAgentOfSession(ctx.store, agent.session_id)
      : undefined;
    if (owner) return await sendPrompt(ctx, owner, prompt, options);
    return { agent: await ctx.adopt(agent, prompt, options.voice === true), delivery: "resumed" };
  }
  const run = ctx.runOf(id);
  // The next turn never starts past a budget: not in the live process either. Resumed instead,
  // the agent is paused at its budget with the prompt kept until the budget is raised.
  const overBudget = ctx.budgetReached?.(agent) ?? null;
  if (overBudget !== null && agent.status === "running") {
    throw new InvalidStateError(
      `Cannot send to agent "${id}": ${overBudget}; raise its budget first (agent.set_budget)`,
    );
  }
  // A voice turn needs its own system prompt, which only a new process can carry.
  if (
    run?.session.live && !options.voice && overBudget === null &&
    (agent.status === "running" || agent.status === "awaiting_review" ||
      agent.status === "failed")
  ) {
    if (agent.kind === "planner" && options.execute) {
      await run.session.control({ subtype: "set_permission_mode", mode: workingMode(agent) });
    }
    const delivery = await run.session.deliver(prompt, options.steer === true);
    return { agent: ctx.mustGet(id), delivery };
  }
  return { agent: await resume(ctx, id, prompt, options), delivery: "resumed" };
}

/** Resumes the session (`--resume`) in a new process; the prompt waits on the agent's row. */
async function resume(
  ctx: LiveContext,
  id: string,
  prompt: string,
  options: SendOptions,
): Promise<Agent> {
  const agent = checkFollowUpAgent(ctx.mustGet(id));
  // A voice turn in a live session: that process ends, the new one carries the voice prompt.
  ctx.runOf(id)?.session.endSession();
  // A process that printed its result may still be exiting: never run two on one session.
  await ctx.runOf(id)?.done;
  const queued = requeueFollowUp(ctx.store, agent, prompt, options.execute === true);
  return ctx.enqueue(queued, options.voice === true);
}

/**
 * Interrupts the running turn of a live process (`interrupt` control request): the turn ends,
 * the process stays, the agent goes to awaiting_review keeping what it produced. Not cancel.
 */
export async function interruptTurn(ctx: LiveContext, id: string): Promise<Agent> {
  const agent = ctx.mustGet(id);
  const run = ctx.runOf(id);
  if (agent.status !== "running" || !run?.session.live) {
    throw new InvalidStateError(
      `Cannot interrupt agent "${id}": it is ${agent.status}${
        run?.session.live ? "" : " without a live process"
      } (needs a running turn)`,
    );
  }
  await run.session.interrupt();
  // The result of the interrupted turn follows the control response within milliseconds.
  const deadline = Date.now() + INTERRUPT_SETTLE_MS;
  while (Date.now() < deadline && ctx.mustGet(id).status === "running" && run.session.live) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return ctx.mustGet(id);
}

/** Switches the model of a live process (`set_model`); the model must be a configured one. */
export async function setLiveModel(ctx: LiveContext, id: string, model: string): Promise<Agent> {
  const models = ctx.settings.claude.models;
  if (!models.includes(model)) {
    throw new ValidationError(
      "invalid_model",
      `Cannot set model "${model}": it is not one of ${models.join(", ")}`,
      "model",
    );
  }
  await liveRun(ctx, id, "set the model of").session.control({ subtype: "set_model", model });
  return ctx.store.updateAgent(id, { model });
}

/** Switches the permission mode of a live process (`set_permission_mode`). */
export async function setLivePermissionMode(
  ctx: LiveContext,
  id: string,
  mode: CliPermissionMode,
): Promise<Agent> {
  if (!(CLI_PERMISSION_MODES as readonly string[]).includes(mode)) {
    throw new ValidationError(
      "invalid_params",
      `Cannot set permission mode "${mode}": it is not one of ${CLI_PERMISSION_MODES.join(", ")}`,
      "mode",
    );
  }
  const run = liveRun(ctx, id, "set the permission mode of");
  await run.session.control({ subtype: "set_permission_mode", mode });
  // The agent's own mode (later processes, approval answers) follows when it is one of its four.
  const own = AgentPermissionMode.safeParse(mode);
  return own.success ? ctx.store.updateAgent(id, { permission_mode: own.data }) : ctx.mustGet(id);
}

/** awaiting_review → completed; a live session ends with the review (the CLI exits). */
export function completeAgent(ctx: LiveContext, id: string): Agent {
  const agent = ctx.mustGet(id);
  if (agent.status !== "awaiting_review") {
    throw new InvalidStateError(
      `Cannot complete agent "${id}": it is ${agent.status} (needs awaiting_review)`,
    );
  }
  const completed = ctx.store.transition(id, "completed", { finished_at: Date.now() });
  ctx.runOf(id)?.session.endSession();
  return completed;
}

/**
 * Stops an agent and everything it started (a live process in review too). Resolves once the
 * agent is `cancelled`, which happens only when none of its processes is left.
 */
export async function cancelAgent(ctx: LiveContext, id: string): Promise<Agent> {
  const agent = ctx.mustGet(id);
  const run = ctx.runOf(id);
  if ((agent.status === "queued" || agent.status === "paused") && !run) {
    ctx.dequeue(id);
    const paused = agent.status === "paused";
    const cancelled = ctx.store.transition(id, "cancelled", {
      cancel_requested_at: Date.now(),
      finished_at: Date.now(),
      error_code: "cancelled",
      error_message: paused ? "Cancelled while paused" : "Cancelled before it started",
      ...(paused ? { resume_at: null } : {}),
    });
    await stopShadows(id, "Its agent was cancelled", ctx);
    if (paused) ctx.pauseEnded?.();
    return cancelled;
  }
  const inReview = agent.status === "awaiting_review";
  if (!inReview && (agent.status !== "running" && agent.status !== "queued" || !run)) {
    throw new InvalidStateError(`Cannot cancel agent "${id}": it is ${agent.status}`);
  }
  ctx.store.updateAgent(id, { cancel_requested_at: Date.now() });
  run?.requestStop({ code: "cancelled", message: "Cancelled by request", status: "cancelled" });
  // Its shadows stop with it, in the same grace, before the cancel is reported done.
  await Promise.all([run?.done, stopShadows(id, "Its agent was cancelled", ctx)]);
  const now = ctx.mustGet(id);
  // A pause that was already stopping the run won the stop; the cancel still ends the agent.
  if (now.status === "paused") return await cancelAgent(ctx, id);
  // In review the run leaves the status alone: the cancel is written here.
  if (!inReview || now.status !== "awaiting_review") return now;
  return ctx.store.transition(id, "cancelled", {
    finished_at: Date.now(),
    error_code: "cancelled",
    error_message: "Cancelled by request",
  });
}

function liveRun(ctx: LiveContext, id: string, what: string): AgentRun {
  ctx.mustGet(id);
  const run = ctx.runOf(id);
  if (!run?.session.live) {
    throw new InvalidStateError(`Cannot ${what} agent "${id}": it has no live process`);
  }
  return run;
}
