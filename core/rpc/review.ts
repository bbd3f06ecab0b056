/**
 * Contract of the review methods of isolated agents (`agent.diff`, `agent.resolve_conflicts`,
 * `agent.discard`): their params, results and descriptions, which `methods.ts` names.
 * @module
 */
import { z } from "zod";
import { Agent } from "../models/mod.ts";
import type { DomainErrorReason } from "./errors.ts";
import { AgentDiff, Isolation } from "./commit.ts";
import { AgentId } from "./method_spec.ts";

const idParams = z.strictObject({ id: AgentId });

/** `agent.create`'s isolation params. */
export const CREATE_ISOLATION_PARAMS = {
  isolation: Isolation.optional().describe(
    "default: HERO_ORCHESTRATOR_ISOLATION, else worktree when cwd is inside a non-bare git work tree, none otherwise",
  ),
  base_ref: z.string().min(1).max(1000).optional().describe(
    "isolation worktree: the branch (or commit) the agent's branch starts from; default HEAD",
  ),
  branch: z.string().min(1).max(200).optional().describe(
    "isolation worktree: the new branch's name; default hero/<slug of name>-<short id>",
  ),
  fetch: z.boolean().optional().describe(
    "isolation worktree: fetch the base branch's upstream first and start from its tip (never pushes)",
  ),
};

/** `agent.diff`. */
export const DIFF_SPEC = {
  summary: "An agent's changes against its base: file list and unified diffs",
  description:
    "Isolated agents: everything on their branch and in their worktree (committed, uncommitted, untracked) against the base sha. Agents in their cwd: the files they changed since their first start, against the commit at that start. `path` adds that file's unified diff, `patches` every file's; each is cut at 512 KiB.",
  params: z.strictObject({
    id: AgentId,
    path: z.string().min(1).max(4096).optional().describe("the file whose diff to include"),
    context: z.number().int().min(0).max(1000).optional().describe(
      "lines of context (default 3)",
    ),
    patches: z.boolean().default(false).describe("include every file's diff"),
  }),
  result: AgentDiff,
  errors: ["not_found", "invalid_state"] as DomainErrorReason[],
};

/** `agent.resolve_conflicts`. */
export const RESOLVE_CONFLICTS_SPEC = {
  summary: "Ask an isolated agent to resolve its conflicts with its base branch",
  description:
    "For an agent in review (or failed) whose branch conflicts with its base branch: commits what is uncommitted in its worktree, merges the base branch into its branch there and, when that conflicts, sends a follow-up naming the files and asking the agent to fix and commit them; its branch then merges by fast-forward. `conflicts` empty: the base merged cleanly, no follow-up. The user's tree and the base branch are not touched.",
  params: idParams,
  result: z.object({
    agent: Agent,
    conflicts: z.array(z.string()).describe("the files left conflicted in the worktree"),
  }).meta({ id: "ResolveConflictsResult" }),
  errors: ["not_found", "invalid_state", "merge_refused", "busy"] as DomainErrorReason[],
};

/** `agent.discard`. */
export const DISCARD_SPEC = {
  summary: "Throw an isolated agent's work away: remove its worktree and branch",
  description:
    "Refused with unmerged_work when the branch has commits not in the base branch or the worktree has uncommitted changes, unless `force`. An agent in review ends cancelled (`discarded`). Not for queued or running agents.",
  params: z.strictObject({
    id: AgentId,
    force: z.boolean().default(false).describe("throw unmerged work away"),
  }),
  result: Agent,
  errors: ["not_found", "invalid_state", "unmerged_work"] as DomainErrorReason[],
};
