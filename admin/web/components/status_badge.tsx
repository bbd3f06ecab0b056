/** The status pill: colour, icon and label; the error code of a failed agent as a tooltip. */
import type { Agent } from "@hero/sdk";
import { STATUS_LABEL } from "../lib/format.ts";

/** A status badge. */
export function StatusBadge({ agent }: { agent: Pick<Agent, "status" | "error_code"> }) {
  const title = agent.error_code ? `${STATUS_LABEL[agent.status]}: ${agent.error_code}` : undefined;
  return (
    <span class={`badge badge-${agent.status}`} title={title} data-status={agent.status}>
      <span class="badge-dot" aria-hidden="true"></span>
      {STATUS_LABEL[agent.status]}
      {agent.status === "failed" && agent.error_code
        ? <span class="badge-code">{agent.error_code}</span>
        : null}
    </span>
  );
}
