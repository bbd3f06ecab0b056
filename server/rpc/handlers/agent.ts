/** `agent.*`: thin adapters from the contract to the supervisor and the store. */
import {
  type Agent,
  type AgentStatus,
  MAX_HERO_CONTEXT_CHARS,
  ValidationError,
} from "@hero/core/models";
import {
  BUCKET_STATUSES,
  type LiveAgent,
  MAX_KNOWN_CWDS,
  MAX_MESSAGES_PAGE_BYTES,
  RpcFault,
} from "@hero/core/rpc";
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";

function mustGet(deps: RpcDeps, id: string) {
  const agent = deps.engine.store.getAgent(id);
  if (!agent) throw new RpcFault("not_found", `Cannot find agent "${id}": no such agent`);
  return agent;
}

/** The row as answered: with `live` (a process takes prompts on its stdin) filled in. */
function withLive(deps: RpcDeps, agent: Agent): LiveAgent {
  const pending = deps.engine.store.listApprovals({ agentId: agent.id, state: "pending" });
  return {
    ...agent,
    live: deps.engine.supervisor.isLive(agent.id),
    pending_approvals: pending.reverse(),
  };
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
  "agent.create"(params, deps, context) {
    const heroContext = context.heroContext;
    if (heroContext !== null && heroContext.length > MAX_HERO_CONTEXT_CHARS) {
      throw new RpcFault(
        "invalid_params",
        `Cannot create agent: X-Hero-Context is longer than ${MAX_HERO_CONTEXT_CHARS} characters`,
        { field: "X-Hero-Context" },
      );
    }
    return deps.engine.supervisor.worktrees.create({
      prompt: params.prompt,
      cwd: params.cwd,
      model: params.model,
      effort: params.effort,
      name: params.name,
      kind: params.kind,
      home_mcp: params.home_mcp ?? null,
      hero_context: heroContext,
      voice: params.voice,
      permission_mode: params.permission_mode,
      max_cost_usd: params.max_cost_usd ?? null,
      max_turns: params.max_turns ?? null,
      priority: params.priority ?? "normal",
      ...(params.isolation ? { isolation: params.isolation } : {}),
      ...(params.base_ref !== undefined ? { base_ref: params.base_ref } : {}),
      ...(params.branch !== undefined ? { branch: params.branch } : {}),
      ...(params.fetch ? { fetch: true } : {}),
    });
  },

  "agent.get"(params, deps) {
    return withLive(deps, mustGet(deps, params.id));
  },

  "agent.list"(params, deps) {
    const statuses = listStatuses(params.status, params.bucket);
    // A status filter that selects nothing (e.g. status=[failed] in bucket=running) matches nothing.
    if (statuses && statuses.length === 0) return { agents: [], next_cursor: null };
    try {
      return deps.engine.store.listAgents({
        ...(params.cwd !== undefined ? { cwd: params.cwd } : {}),
        ...(statuses ? { statuses } : {}),
        // The three buckets show the agents people run; shadows appear only when asked for.
        ...(params.kind
          ? { kinds: params.kind }
          : params.bucket
          ? { kinds: ["standard", "planner"] as const }
          : {}),
        ...(params.parent_id !== undefined ? { parent_id: params.parent_id } : {}),
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
    const store = deps.engine.store;
    const options = { maxBytes: MAX_MESSAGES_PAGE_BYTES };
    if (params.before_seq !== undefined) {
      const messages = store.readMessagesBefore(
        params.id,
        params.before_seq,
        params.limit,
        options,
      );
      const first = messages[0]?.seq;
      const last = messages.at(-1)?.seq ?? params.before_seq - 1;
      return {
        messages,
        next_seq: last,
        has_more: last < agent.last_seq,
        has_older: first !== undefined && store.hasMessageBefore(params.id, first),
      };
    }
    const after = params.after_seq ?? 0;
    const messages = store.readMessages(params.id, after, params.limit, options);
    const last = messages.at(-1)?.seq ?? after;
    return {
      messages,
      next_seq: last,
      has_more: last < agent.last_seq,
      has_older: store.hasMessageBefore(params.id, messages[0]?.seq ?? after + 1),
    };
  },

  "agent.cwds"(_params, deps) {
    const cwds = deps.engine.store.knownCwds({ limit: MAX_KNOWN_CWDS, excludeKinds: ["shadow"] });
    return { cwds };
  },

  "agent.cancel"(params, deps) {
    return deps.engine.supervisor.cancel(params.id);
  },

  "agent.pause"(params, deps) {
    return deps.engine.supervisor.quota.pause(params.id);
  },

  "agent.resume"(params, deps) {
    return deps.engine.supervisor.quota.resume(params.id, {
      overrideBudget: params.override_budget === true,
    });
  },

  "agent.set_budget"(params, deps) {
    return deps.engine.supervisor.quota.setBudget(params.id, {
      ...(params.max_cost_usd !== undefined ? { max_cost_usd: params.max_cost_usd } : {}),
      ...(params.max_turns !== undefined ? { max_turns: params.max_turns } : {}),
    });
  },

  async "agent.complete"(params, deps) {
    const { agent, commit, merge } = await deps.engine.shadows.complete(params.id, {
      commit: params.commit,
      merge: params.merge,
      ...(params.strategy ? { strategy: params.strategy } : {}),
    });
    return { ...agent, commit, merge };
  },

  "agent.diff"(params, deps) {
    mustGet(deps, params.id);
    return deps.engine.supervisor.worktrees.diff(params.id, {
      ...(params.path !== undefined ? { path: params.path } : {}),
      ...(params.context !== undefined ? { context: params.context } : {}),
      patches: params.patches,
    });
  },

  "agent.resolve_conflicts"(params, deps) {
    mustGet(deps, params.id);
    return deps.engine.supervisor.worktrees.resolveConflicts(params.id);
  },

  "agent.discard"(params, deps) {
    mustGet(deps, params.id);
    return deps.engine.supervisor.worktrees.discard(params.id, { force: params.force });
  },

  "agent.commit_info"(params, deps) {
    mustGet(deps, params.id);
    const store = deps.engine.store;
    const worktree = store.worktreeSnapshot(params.id);
    const proposal = store.commitRecord(params.id);
    return {
      id: params.id,
      worktree: worktree
        ? { toplevel: worktree.toplevel, head: worktree.head, taken_at: worktree.taken_at }
        : null,
      proposal: proposal ?? null,
      shadow_pending: deps.engine.shadows.commitPending(params.id),
      isolation: store.isolation(params.id) ?? null,
    };
  },

  "agent.follow_up"(params, deps) {
    return deps.engine.supervisor.followUp(params.id, params.prompt, {
      execute: params.execute,
      voice: params.voice,
    });
  },

  async "agent.send"(params, deps) {
    mustGet(deps, params.id);
    const sent = await deps.engine.supervisor.send(params.id, params.prompt, {
      execute: params.execute,
      voice: params.voice,
      steer: params.mode === "steer",
    });
    return { agent: withLive(deps, sent.agent), delivery: sent.delivery };
  },

  async "agent.interrupt"(params, deps) {
    mustGet(deps, params.id);
    return withLive(deps, await deps.engine.supervisor.interrupt(params.id));
  },

  async "agent.set_model"(params, deps) {
    mustGet(deps, params.id);
    return withLive(deps, await deps.engine.supervisor.setModel(params.id, params.model));
  },

  async "agent.set_permission_mode"(params, deps) {
    mustGet(deps, params.id);
    return withLive(deps, await deps.engine.supervisor.setPermissionMode(params.id, params.mode));
  },

  async "agent.fork"(params, deps) {
    mustGet(deps, params.id);
    try {
      return await deps.engine.supervisor.fork(params.id, params.seq, params.prompt, {
        name: params.name ?? null,
        ...(params.isolation ? { isolation: params.isolation } : {}),
        ...(params.base_ref !== undefined ? { base_ref: params.base_ref } : {}),
      });
    } catch (err) {
      // A seq that names no message of the session is a bad parameter, not a domain state.
      if (err instanceof ValidationError && err.code === "invalid_params") {
        throw new RpcFault("invalid_params", err.message, { field: err.field ?? "seq" });
      }
      throw err;
    }
  },

  async "agent.delete"(params, deps) {
    mustGet(deps, params.id);
    // The supervisor lets a just-finished agent's process wind down before deleting.
    await deps.engine.supervisor.delete(params.id, { force: params.force });
    return { id: params.id, deleted: true as const };
  },
});
