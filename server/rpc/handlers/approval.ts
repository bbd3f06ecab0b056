/** `approval.*`: the approval inbox, answered through the supervisor's desk (exactly once). */
import { RpcFault } from "@hero/core/rpc";
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";

function mustHaveAgent(deps: RpcDeps, id: string): void {
  if (!deps.engine.store.getAgent(id)) {
    throw new RpcFault("not_found", `Cannot find agent "${id}": no such agent`);
  }
}

export const approvalHandlers = handlers({
  "approval.list"(params, deps) {
    if (params.agent_id !== undefined) mustHaveAgent(deps, params.agent_id);
    return {
      approvals: deps.engine.store.listApprovals({
        ...(params.agent_id !== undefined ? { agentId: params.agent_id } : {}),
        ...(params.state !== undefined ? { state: params.state } : {}),
        limit: params.limit,
      }),
    };
  },

  "approval.respond"(params, deps) {
    return deps.engine.supervisor.approvals.respond(params.id, {
      decision: params.decision,
      message: params.message,
      updated_input: params.updated_input,
      remember: params.remember,
      answered_by: params.answered_by,
    });
  },
});
