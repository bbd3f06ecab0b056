/** `agent.*`: thin adapters from the contract to the supervisor and the store. */
import type { AgentStatus } from "../../../core/models/mod.ts";
import { BUCKET_STATUSES, MAX_MESSAGES_PAGE_BYTES, RpcFault } from "../../../core/rpc/mod.ts";
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";

function mustGet(deps: RpcDeps, id: string) {
  const agent = deps.engine.store.getAgent(id);
  if (!agent) throw new RpcFault("not_found", `Cannot find agent "${id}": no such agent`);
  return agent;
}

function listStatuses(
  status: AgentStatus[] | undefined,
  bucket: keyof typeof BUCKET_STATUSES | undefined,
): AgentStatus[] | undefined {
  if (!bucket) return status;
  const inBucket = BUCKET_STATUSES[bucket];
  return status ? status.filter((s) => inBucket.includes(s)) : [...inBucket];
}

export const agentHandlers = handlers({
  "agent.create"(params, deps) {
    return deps.engine.supervisor.create({
      prompt: params.prompt,
      cwd: params.cwd,
      model: params.model,
      effort: params.effort,
      name: params.name,
      kind: params.kind,
    });
  },

  "agent.get"(params, deps) {
    return mustGet(deps, params.id);
  },

  "agent.list"(params, deps) {
    const statuses = listStatuses(params.status, params.bucket);
    // A status filter that selects nothing (e.g. status=[failed] in bucket=running) matches nothing.
    if (statuses && statuses.length === 0) return { agents: [], next_cursor: null };
    try {
      return deps.engine.store.listAgents({
        ...(params.cwd !== undefined ? { cwd: params.cwd } : {}),
        ...(statuses ? { statuses } : {}),
        ...(params.kind ? { kinds: params.kind } : {}),
        limit: params.limit,
        cursor: params.cursor ?? null,
      });
    } catch (err) {
      if (params.cursor !== undefined && err instanceof RangeError) {
        throw new RpcFault("invalid_params", "Cannot list agents: the cursor is not valid", {
          field: "cursor",
        });
      }
      throw err;
    }
  },

  "agent.messages"(params, deps) {
    const agent = mustGet(deps, params.id);
    const messages = deps.engine.store.readMessages(params.id, params.after_seq, params.limit, {
      maxBytes: MAX_MESSAGES_PAGE_BYTES,
    });
    const last = messages.at(-1)?.seq ?? params.after_seq;
    return { messages, next_seq: last, has_more: last < agent.last_seq };
  },

  "agent.cancel"(params, deps) {
    return deps.engine.supervisor.cancel(params.id);
  },

  "agent.complete"(params, deps) {
    return deps.engine.supervisor.complete(params.id);
  },

  "agent.follow_up"(params, deps) {
    return deps.engine.supervisor.followUp(params.id, params.prompt, { execute: params.execute });
  },

  async "agent.delete"(params, deps) {
    mustGet(deps, params.id);
    // The supervisor lets a just-finished agent's process wind down before deleting.
    await deps.engine.supervisor.delete(params.id);
    return { id: params.id, deleted: true as const };
  },
});
