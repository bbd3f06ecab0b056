/**
 * One permission prompt waiting for a person: the tool and its input rendered as the transcript
 * renders it (Write/Edit as a diff, Bash as the command), with Allow, Allow for session and Deny
 * (an optional message tells the model why). A refused answer (it was answered elsewhere, timed
 * out or expired) is shown, never retried.
 * @module
 */
import { useState } from "preact/hooks";
import type { Approval } from "@hero/sdk";
import { oneLine } from "../lib/sanitize.ts";
import { answerApproval } from "../state/approvals.ts";
import { agentHref } from "../state/base.ts";
import { messageOf } from "../state/rpc.ts";
import { InputView } from "./tool_call.tsx";

export function ApprovalCard(
  { approval, agentName }: { approval: Approval; agentName?: string | null },
) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const answer = async (decision: "allow" | "deny", remember = false) => {
    setBusy(true);
    setError(null);
    try {
      await answerApproval(approval.id, decision, { remember, message: message.trim() });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article class="approval" data-testid="approval" data-approval={approval.id}>
      <header class="approval-head">
        <strong class="approval-tool">{oneLine(approval.tool_name, 60)}</strong>
        {agentName !== undefined
          ? (
            <a class="approval-agent" href={agentHref(approval.agent_id)}>
              {oneLine(agentName ?? approval.agent_id, 80)}
            </a>
          )
          : null}
        {approval.description
          ? <span class="approval-note">{oneLine(approval.description, 200)}</span>
          : null}
      </header>
      <InputView name={approval.tool_name} input={approval.input as Record<string, unknown>} />
      <div class="approval-actions">
        <button
          type="button"
          class="button button-primary"
          disabled={busy}
          onClick={() => answer("allow")}
        >
          Allow
        </button>
        {approval.permission_suggestions.length > 0
          ? (
            <button
              type="button"
              class="button"
              disabled={busy}
              title="Allow, and what claude suggested for the rest of this run"
              onClick={() => answer("allow", true)}
            >
              Allow for session
            </button>
          )
          : null}
        <input
          class="approval-message"
          aria-label="Why (told to the model when you deny)"
          placeholder="Why (optional, on deny)"
          maxLength={2000}
          value={message}
          onInput={(e) => setMessage((e.target as HTMLInputElement).value)}
        />
        <button
          type="button"
          class="button button-danger"
          disabled={busy}
          onClick={() => answer("deny")}
        >
          Deny
        </button>
      </div>
      {error ? <p class="alert alert-error" role="alert">{error}</p> : null}
    </article>
  );
}

/** The pending approvals as a "Needs you" list. */
export function ApprovalList(
  { approvals, nameOf }: {
    approvals: readonly Approval[];
    nameOf?: (agentId: string) => string | null;
  },
) {
  if (approvals.length === 0) return null;
  return (
    <section class="needs-you" aria-labelledby="needs-you-title" data-testid="needs-you">
      <h2 id="needs-you-title" class="bucket-title">
        Needs you <span class="count">{approvals.length}</span>
      </h2>
      {approvals.map((a) => (
        <ApprovalCard
          key={a.id}
          approval={a}
          {...(nameOf ? { agentName: nameOf(a.agent_id) } : {})}
        />
      ))}
    </section>
  );
}
