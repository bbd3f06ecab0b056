/**
 * Contract of the approval inbox: `approval.list` and `approval.respond` (spread into `METHODS`).
 * A permission prompt of an agent not in bypassPermissions mode is stored as an approval and
 * answered exactly once; nothing but a person's allow ever lets the tool run.
 * @module
 */
import { z } from "zod";
import { AgentPermissionMode, Approval, ApprovalState } from "../models/mod.ts";
import { AgentId, defineMethod } from "./method_spec.ts";

/** `agent.create`'s permission mode (spread into its params). */
export const CREATE_PERMISSION_PARAMS = {
  permission_mode: AgentPermissionMode.optional().describe(
    "default bypassPermissions; any other mode asks before tools run (approval.list)",
  ),
};

export const ApprovalList = z.object({
  approvals: z.array(Approval).describe("newest first"),
}).meta({ id: "ApprovalList" });
export type ApprovalList = z.infer<typeof ApprovalList>;

export const APPROVAL_METHODS = {
  "approval.list": defineMethod({
    name: "approval.list",
    summary: "Permission prompts, across agents or of one",
    description:
      "Newest first, at most `limit`. `state: pending` is the inbox: prompts waiting for a person (an agent with one is running but blocked on it). SSE `approval` events (stored, replayable) announce each prompt and each answer.",
    params: z.strictObject({
      agent_id: AgentId.optional().describe("only this agent's"),
      state: ApprovalState.optional().describe("only in this state"),
      limit: z.number().int().min(1).max(1000).default(200),
    }),
    result: ApprovalList,
    errors: ["not_found"],
  }),
  "approval.respond": defineMethod({
    name: "approval.respond",
    summary: "Answer a permission prompt (exactly once)",
    description:
      "allow runs the tool (with `updated_input` if given; `remember: session` also adds claude's suggested permission rules for the rest of that process); deny refuses it and the model gets `message`. Exactly once: an approval that is no longer pending (answered elsewhere, timed out, withdrawn by claude, expired with its process) is invalid_state and claude hears nothing more. An agent in bypassPermissions mode is invalid_state.",
    params: z.strictObject({
      id: z.string().min(1).max(64).describe("approval id"),
      decision: z.enum(["allow", "deny"]),
      message: z.string().max(2000).optional().describe("deny: what the model is told"),
      updated_input: z.record(z.string(), z.unknown()).optional().describe(
        "allow: the tool input to run instead of the one asked for",
      ),
      remember: z.enum(["session"]).optional().describe(
        "allow: add the suggested permission rules for the rest of the run",
      ),
      answered_by: z.string().min(1).max(64).default("rpc").describe(
        "the answering surface, recorded (admin, cli, …)",
      ),
    }),
    result: Approval,
    errors: ["not_found", "invalid_state"],
  }),
} as const;
