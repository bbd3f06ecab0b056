/**
 * What `Supervisor.create()` and `followUp()` accept, and their checks: model, effort, prompt,
 * home MCP, hero context and working directory are validated before anything is stored or spawned.
 * @module
 */
import {
  type Agent,
  type AgentKind,
  type AgentPermissionMode,
  Effort,
  InvalidStateError,
  MAX_HERO_CONTEXT_CHARS,
  Priority,
  ValidationError,
} from "../models/mod.ts";
import { type EngineSettings, homeCwd, isHomeMcp } from "../config/mod.ts";
import { validateCwd } from "./cwd.ts";

export interface CreateAgentInput {
  prompt: string;
  /** Required unless `home_mcp` has a configured default working directory. */
  cwd?: string | undefined;
  /** The Hero service whose router MCP gateway the agent gets (`hero_books`). */
  home_mcp?: string | null | undefined;
  /** The caller's `X-Hero-Context` header, passed on to the home MCP server. */
  hero_context?: string | null | undefined;
  /** A spoken turn: the reply is asked to read well aloud. */
  voice?: boolean | undefined;
  model?: string | undefined;
  effort?: Effort | undefined;
  name?: string | null | undefined;
  kind?: AgentKind | undefined;
  parent_id?: string | null | undefined;
  /** The mode claude runs in; anything but bypassPermissions asks (approvals). */
  permission_mode?: AgentPermissionMode | undefined;
  /** Budget: pause once the agent's cost reaches this many USD. */
  max_cost_usd?: number | null | undefined;
  /** Budget: pause once the agent's API round trips reach this. */
  max_turns?: number | null | undefined;
  /** Queue order (default normal). */
  priority?: Priority | undefined;
}

/** Largest budget accepted (anything above is a typo, not a budget). */
export const MAX_BUDGET_USD = 100_000;
export const MAX_BUDGET_TURNS = 1_000_000;

/**
 * Checks budget figures: a cost in (0, 100 000] USD, a whole number of turns in [1, 1 000 000];
 * null clears a budget, undefined leaves it.
 * @throws {ValidationError} `invalid_params` naming the field.
 */
export function checkBudget(
  input: { max_cost_usd?: number | null | undefined; max_turns?: number | null | undefined },
): void {
  const cost = input.max_cost_usd;
  if (
    cost !== undefined && cost !== null &&
    (typeof cost !== "number" || !Number.isFinite(cost) || cost <= 0 || cost > MAX_BUDGET_USD)
  ) {
    throw new ValidationError(
      "invalid_params",
      `Cannot set budget: max_cost_usd must be a number above 0 and at most ${MAX_BUDGET_USD}`,
      "max_cost_usd",
    );
  }
  const turns = input.max_turns;
  if (
    turns !== undefined && turns !== null &&
    (!Number.isSafeInteger(turns) || turns < 1 || turns > MAX_BUDGET_TURNS)
  ) {
    throw new ValidationError(
      "invalid_params",
      `Cannot set budget: max_turns must be a whole number from 1 to ${MAX_BUDGET_TURNS}`,
      "max_turns",
    );
  }
}

/** A create request that passed every check, with the defaults filled in. */
export interface CheckedCreateInput {
  model: string;
  effort: Effort;
  homeMcp: string | null;
  heroContext: string | null;
  /** The canonical working directory. */
  cwd: string;
  kind: AgentKind;
  /** The name given, or null when none (blank counts as none). */
  name: string | null;
  /** The budgets given (checked, null where none) and the queue priority. */
  quota: { max_cost_usd: number | null; max_turns: number | null; priority: Priority };
}

/**
 * Checks a create request.
 * @throws {ValidationError} with the offending field; RangeError for an over-long hero context.
 */
export function checkCreateInput(
  input: CreateAgentInput,
  options: {
    settings: EngineSettings;
    protectedDirs: string[];
    allowedRoots: string[] | null;
  },
): CheckedCreateInput {
  const { settings } = options;
  const model = input.model ?? settings.claude.defaultModel;
  if (!settings.claude.models.includes(model)) {
    throw new ValidationError(
      "invalid_model",
      `Cannot create agent: model "${model}" is not one of ${settings.claude.models.join(", ")}`,
      "model",
    );
  }
  const effort = input.effort ?? settings.claude.defaultEffort;
  if (!Effort.safeParse(effort).success) {
    throw new ValidationError(
      "invalid_effort",
      `Cannot create agent: effort "${effort}" is not one of ${Effort.options.join(", ")}`,
      "effort",
    );
  }
  if (typeof input.prompt !== "string" || input.prompt.length === 0) {
    throw new ValidationError(
      "invalid_prompt",
      "Cannot create agent: the prompt is empty",
      "prompt",
    );
  }
  const homeMcp = input.home_mcp ?? null;
  if (homeMcp !== null && !isHomeMcp(homeMcp)) {
    throw new ValidationError(
      "invalid_home_mcp",
      `Cannot create agent: home_mcp "${
        String(homeMcp).slice(0, 80)
      }" is not a service name like hero_books (^hero_[a-z0-9_]+$, at most 64 characters)`,
      "home_mcp",
    );
  }
  const heroContext = input.hero_context || null;
  if (heroContext !== null && heroContext.length > MAX_HERO_CONTEXT_CHARS) {
    // The RPC layer answers this as invalid params before it gets here.
    throw new RangeError(
      `Cannot create agent: X-Hero-Context is longer than ${MAX_HERO_CONTEXT_CHARS} characters`,
    );
  }
  const requestedCwd = input.cwd ??
    (homeMcp !== null ? homeCwd(settings.homeMcp, homeMcp) : null);
  if (requestedCwd === null) {
    throw new ValidationError(
      "invalid_cwd",
      homeMcp !== null
        ? `Cannot create agent: no cwd given and no default working directory for ${homeMcp} (set HERO_ORCHESTRATOR_HOME_CWDS or HERO_ORCHESTRATOR_HOME_DEFAULT_CWD)`
        : "Cannot create agent: cwd is required",
      "cwd",
    );
  }
  const cwd = validateCwd(requestedCwd, {
    protectedDirs: options.protectedDirs,
    allowedRoots: options.allowedRoots,
  });
  const name = typeof input.name === "string" && input.name.trim() !== "" ? input.name : null;
  checkBudget(input);
  const priority = input.priority ?? "normal";
  if (!Priority.safeParse(priority).success) {
    throw new ValidationError(
      "invalid_params",
      `Cannot create agent: priority "${priority}" is not one of ${Priority.options.join(", ")}`,
      "priority",
    );
  }
  const quota = {
    max_cost_usd: input.max_cost_usd ?? null,
    max_turns: input.max_turns ?? null,
    priority,
  };
  return { model, effort, homeMcp, heroContext, cwd, kind: input.kind ?? "standard", name, quota };
}

/** A follow-up's prompt must not be empty. @throws {ValidationError} */
export function checkFollowUpPrompt(prompt: string): void {
  if (typeof prompt !== "string" || prompt.length === 0) {
    throw new ValidationError("invalid_prompt", "Cannot follow up: the prompt is empty", "prompt");
  }
}

/**
 * Only an agent in review or failed, with a claude session to resume, takes a follow-up.
 * @throws {InvalidStateError}
 */
export function checkFollowUpAgent(agent: Agent): Agent {
  if (agent.status !== "awaiting_review" && agent.status !== "failed") {
    throw new InvalidStateError(
      `Cannot follow up agent "${agent.id}": it is ${agent.status} (needs awaiting_review or failed)`,
    );
  }
  if (!agent.session_id) {
    throw new InvalidStateError(
      `Cannot follow up agent "${agent.id}": it has no claude session to resume`,
    );
  }
  return agent;
}
