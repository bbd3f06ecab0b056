/**
 * Contract schemas of `agent.complete {commit}` and `agent.commit_info` (commit shadows). They
 * mirror the engine's types in `core/shadow/manager.ts`; `methods.ts` uses them.
 * @module
 */
import { z } from "zod";
import { Agent } from "../models/mod.ts";

const millis = z.number().int().describe("Unix epoch milliseconds");

/** Worktree isolation (`agent.create {isolation}`, `agent.diff`, `agent.complete {merge}`). */
export const Isolation = z.enum(["worktree", "none"]).describe(
  "`worktree`: a git worktree and branch of its own under the daemon's state dir; `none`: the cwd itself",
);
export const MergeStrategy = z.enum(["merge", "squash", "rebase"]).describe(
  "how a branch that cannot fast-forward is brought in (default merge)",
);

export const MergeMade = z.object({
  sha: z.string().describe("the base branch's new tip"),
  previous: z.string().describe("the base branch's tip before"),
  kind: z.enum(["fast_forward", "merge", "squash", "rebase", "up_to_date"]),
  base_ref: z.string().describe("the branch merged into, e.g. refs/heads/main"),
  branch: z.string().describe("the agent's branch (removed after the merge)"),
  committed: z.string().nullable().describe(
    "the commit made of the worktree's uncommitted changes first, or null",
  ),
  updated_worktrees: z.array(z.string()).describe(
    "work trees with the base branch checked out that were brought along",
  ),
}).meta({ id: "MergeMade" });

export const DiffFile = z.object({
  path: z.string(),
  old_path: z.string().nullable().describe("the path before a rename or copy"),
  status: z.enum(["added", "modified", "deleted", "renamed", "copied", "type_changed"]),
  additions: z.number().int().nullable().describe("null for a binary file"),
  deletions: z.number().int().nullable().describe("null for a binary file"),
  binary: z.boolean(),
  patch: z.object({
    path: z.string(),
    text: z.string().describe("unified diff (git format)"),
    truncated: z.boolean().describe("the diff was cut at the size bound"),
  }).nullable().describe("the unified diff, when asked for (`path` or `patches`)"),
}).meta({ id: "DiffFile" });

export const AgentDiff = z.object({
  id: z.string(),
  isolation: Isolation,
  repo_root: z.string().describe(
    "the repository's main work tree: agents with the same one work in one repository",
  ),
  base_sha: z.string().nullable().describe("what the changes are measured against"),
  branch: z.string().nullable(),
  files: z.array(DiffFile),
  additions: z.number().int(),
  deletions: z.number().int(),
  entangled: z.array(z.string()).describe(
    "isolation none: files the agent changed that were already dirty at its start (not shown)",
  ),
}).meta({ id: "AgentDiff" });

export const AgentIsolationInfo = z.object({
  repo_root: z.string(),
  base_ref: z.string().nullable().describe("the branch it merges into; null: a detached base"),
  base_sha: z.string(),
  branch: z.string(),
  worktree_path: z.string(),
  merged_sha: z.string().nullable(),
  merged_at: millis.nullable(),
  removed_at: millis.nullable().describe("when the worktree and branch were removed"),
}).meta({ id: "AgentIsolationInfo" });

export const CommitMade = z.object({
  sha: z.string(),
  message: z.string(),
  source: z.enum(["shadow", "fallback"]).describe(
    "`shadow`: written by the commit shadow; `fallback`: a fixed message",
  ),
  files: z.array(z.string()).describe("paths (relative to the toplevel) that were committed"),
  toplevel: z.string(),
}).meta({ id: "CommitMade" });

export const CompletedAgent = Agent.extend({
  commit: CommitMade.nullable().describe("the commit made with `commit: true`, else null"),
  merge: MergeMade.nullable().describe("the merge made with `merge: true`, else null"),
}).meta({ id: "CompletedAgent" });

export const CommitInfo = z.object({
  id: z.string(),
  worktree: z.object({
    toplevel: z.string(),
    head: z.string().nullable(),
    taken_at: millis,
  }).nullable().describe("the git state recorded at the agent's first start; null: not in git"),
  proposal: z.object({
    message: z.string(),
    source: z.enum(["shadow", "fallback"]),
    shadow_id: z.string().nullable(),
    files: z.array(z.string()),
    prepared_at: millis,
    sha: z.string().nullable().describe("set once committed"),
    committed_at: millis.nullable(),
  }).nullable().describe("the commit message proposed by the commit shadow (and the commit)"),
  shadow_pending: z.boolean().describe("a commit shadow is still writing the message"),
  isolation: AgentIsolationInfo.nullable().describe(
    "the agent's own worktree and branch; null: it runs in its cwd",
  ),
}).meta({ id: "CommitInfo" });
export type CommitInfo = z.infer<typeof CommitInfo>;
