/**
 * Contract schemas of `agent.complete {commit}` and `agent.commit_info` (commit shadows). They
 * mirror the engine's types in `core/shadow/manager.ts`; `methods.ts` uses them.
 * @module
 */
import { z } from "zod";
import { Agent } from "../models/mod.ts";

const millis = z.number().int().describe("Unix epoch milliseconds");

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
}).meta({ id: "CommitInfo" });
export type CommitInfo = z.infer<typeof CommitInfo>;
