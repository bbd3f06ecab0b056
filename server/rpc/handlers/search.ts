/** `search.*`: full-text search over the stored lines, the index's progress, check and rebuild. */
import { RpcFault, type SearchStatus } from "@hero/core/rpc";
import {
  checkSearchIndex,
  rebuildSearchIndex,
  searchMessages,
  searchStatus,
  SearchSyntaxError,
} from "@hero/core/store";
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";

function statusOf(deps: RpcDeps, check: boolean): SearchStatus {
  const { store, search } = deps.engine;
  return {
    ...searchStatus(store),
    thinking: search.thinking,
    integrity: check ? checkSearchIndex(store) : null,
  };
}

export const searchHandlers = handlers({
  "search.query"(params, deps) {
    try {
      return searchMessages(deps.engine.store, {
        q: params.q,
        limit: params.limit,
        thinking: deps.engine.search.thinking,
        ...(params.cwd !== undefined ? { cwd: params.cwd } : {}),
        ...(params.status !== undefined ? { status: params.status } : {}),
        ...(params.kind !== undefined ? { kind: params.kind } : {}),
        ...(params.since !== undefined ? { since: params.since } : {}),
        ...(params.until !== undefined ? { until: params.until } : {}),
        ...(params.cursor !== undefined ? { cursor: params.cursor } : {}),
      });
    } catch (err) {
      if (err instanceof SearchSyntaxError) {
        const field = /cursor/.test(err.message) ? "cursor" : "q";
        throw new RpcFault("invalid_params", err.message, { field });
      }
      throw err;
    }
  },

  "search.status"(params, deps) {
    return statusOf(deps, params.check);
  },

  "search.rebuild"(_params, deps) {
    rebuildSearchIndex(deps.engine.store);
    deps.engine.search.start();
    return statusOf(deps, false);
  },
});
