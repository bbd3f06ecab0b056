/** `usage.*`: the quota proxy's rate-limit snapshots, token and cost usage, the OAuth poll. */
import { RpcFault } from "@hero/core/rpc";
import { handlers } from "./define.ts";

export const usageHandlers = handlers({
  "usage.get"(params, deps) {
    const agentId = params.agent_id ?? null;
    if (agentId !== null && !deps.engine.store.getAgent(agentId)) {
      throw new RpcFault("not_found", `Cannot find agent "${agentId}": no such agent`);
    }
    return deps.engine.usage.report({ period: params.period, agentId });
  },
});
