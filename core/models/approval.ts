/**
 * A permission prompt of a running agent (claude's `can_use_tool` control request) stored as an
 * approval: pending until a person answers it exactly once, or the daemon closes it (timeout,
 * the CLI withdrew it, the process is gone). Never allowed by anything but a person's answer.
 * @module
 */
import { z } from "zod";

/** `pending → allowed | denied | expired | cancelled`; only `pending` changes, once. */
export const ApprovalState = z.enum(["pending", "allowed", "denied", "expired", "cancelled"])
  .meta({ id: "ApprovalState" });
export type ApprovalState = z.infer<typeof ApprovalState>;

/** The permission modes an agent may be created in (`--permission-mode`). */
export const AgentPermissionMode = z.enum(["bypassPermissions", "acceptEdits", "default", "plan"])
  .meta({ id: "AgentPermissionMode" });
export type AgentPermissionMode = z.infer<typeof AgentPermissionMode>;

const millis = z.number().int();

export const Approval = z.object({
  id: z.string(),
  agent_id: z.string(),
  tool_name: z.string().describe("the tool claude asks to run (Write, Edit, Bash, …)"),
  input: z.record(z.string(), z.unknown()).describe("the tool input, verbatim"),
  description: z.string().nullable().describe("claude's short description of the call"),
  permission_suggestions: z.array(z.unknown()).describe(
    "permission rules claude suggests (remember: session adds them for the rest of the run)",
  ),
  tool_use_id: z.string().nullable(),
  created_at: millis,
  state: ApprovalState,
  answered_by: z.string().nullable().describe(
    "who or what closed it: the answering surface (admin, cli, rpc), timeout, claude (withdrawn), daemon (process gone)",
  ),
  message: z.string().nullable().describe("the deny message, or why it was closed"),
  remember: z.enum(["session"]).nullable().describe("an allow that added the suggested rules"),
  answered_at: millis.nullable(),
}).meta({ id: "Approval" });
export type Approval = z.infer<typeof Approval>;
