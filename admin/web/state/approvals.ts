/**
 * Permission prompts waiting for a person (the approval inbox): loaded once, then kept current
 * by the page's `approval` events. Answering goes through `approval.respond`, exactly once: an
 * answer that lost (another tab, the CLI, the timeout) shows the server's refusal.
 * @module
 */
import { signal } from "@preact/signals";
import type { Approval } from "@hero/sdk";
import { call } from "./rpc.ts";

/** Pending approvals, oldest first. */
export const pendingApprovals = signal<readonly Approval[]>([]);

/** Loads the pending approvals (of one agent when given). */
export async function loadPendingApprovals(agentId?: string): Promise<void> {
  const list = await call("approval.list", {
    state: "pending",
    ...(agentId ? { agent_id: agentId } : {}),
  });
  applyApprovals([...list.approvals].reverse());
}

/** Applies approval rows (from a load or the event stream): pending ones stay, others leave. */
export function applyApprovals(rows: readonly Approval[]): void {
  if (rows.length === 0) return;
  const byId = new Map(pendingApprovals.peek().map((a) => [a.id, a]));
  for (const row of rows) {
    if (row.state === "pending") byId.set(row.id, row);
    else byId.delete(row.id);
  }
  pendingApprovals.value = [...byId.values()].sort((a, b) => a.created_at - b.created_at);
}

/** Answers an approval from the admin; the updated row replaces it at once. */
export async function answerApproval(
  id: string,
  decision: "allow" | "deny",
  options: { remember?: boolean; message?: string } = {},
): Promise<void> {
  const row = await call("approval.respond", {
    id,
    decision,
    answered_by: "admin",
    ...(options.remember ? { remember: "session" as const } : {}),
    ...(options.message ? { message: options.message } : {}),
  });
  applyApprovals([row]);
}
