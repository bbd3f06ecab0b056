/**
 * Search state: the filters (kept in the URL of the search page), the current page of hits and
 * the links that open a hit in its transcript.
 * @module
 */
import { signal } from "@preact/signals";
import type { AgentKind, AgentStatus, SearchPage, SearchQueryParams } from "@hero/sdk";
import { href } from "./base.ts";
import { call, messageOf, RpcError } from "./rpc.ts";

/** The search page's filters; `since` is a window name (`24h`, `7d`, `30d`). */
export interface SearchFilters {
  q: string;
  cwd: string;
  status: AgentStatus | "";
  kind: AgentKind | "";
  since: "" | "24h" | "7d" | "30d";
}

const WINDOWS_MS = { "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;

/** Empty filters. */
export const NO_FILTERS: SearchFilters = { q: "", cwd: "", status: "", kind: "", since: "" };

/** The filters in a search-page query string. */
export function filtersFromUrl(search: string): SearchFilters {
  const p = new URLSearchParams(search);
  const since = p.get("since") ?? "";
  return {
    q: p.get("q") ?? "",
    cwd: p.get("cwd") ?? "",
    status: (p.get("status") ?? "") as SearchFilters["status"],
    kind: (p.get("kind") ?? "") as SearchFilters["kind"],
    since: since in WINDOWS_MS ? since as SearchFilters["since"] : "",
  };
}

/** The search page URL of `filters` (empty ones left out). */
export function searchHref(filters: Partial<SearchFilters>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) p.set(k, v);
  const qs = p.toString();
  return href(`/search${qs ? `?${qs}` : ""}`);
}

/** The agent page, scrolled to the hit's line with the query's words highlighted. */
export function hitHref(agentId: string, seq: number | null, q: string): string {
  const p = new URLSearchParams();
  if (seq !== null) p.set("seq", String(seq));
  p.set("q", q);
  return href(`/agents/${encodeURIComponent(agentId)}?${p}`);
}

/** The RPC params of `filters`. */
export function paramsOf(
  filters: SearchFilters,
  limit: number,
  cursor?: string,
): SearchQueryParams {
  const params: SearchQueryParams = { q: filters.q.trim(), limit };
  if (filters.cwd) params.cwd = filters.cwd;
  if (filters.status) params.status = [filters.status];
  if (filters.kind) params.kind = [filters.kind];
  if (filters.since) params.since = Date.now() - WINDOWS_MS[filters.since];
  if (cursor) params.cursor = cursor;
  return params;
}

/** What a search shows. */
export interface SearchView {
  state: "idle" | "loading" | "ready" | "error";
  page: SearchPage | null;
  /** A query the server refused (bad syntax) or a failed call. */
  error: string | null;
}

/** Runs searches, dropping answers that arrive after a newer search started. */
export function createSearch(limit: number) {
  const view = signal<SearchView>({ state: "idle", page: null, error: null });
  let generation = 0;
  async function run(filters: SearchFilters, more = false): Promise<void> {
    const current = view.peek();
    const cursor = more ? current.page?.next_cursor ?? undefined : undefined;
    if (!filters.q.trim()) {
      generation++;
      view.value = { state: "idle", page: null, error: null };
      return;
    }
    const mine = ++generation;
    view.value = { ...current, state: "loading", error: null };
    try {
      const page = await call("search.query", paramsOf(filters, limit, cursor));
      if (mine !== generation) return;
      const merged = more && current.page
        ? { ...page, hits: [...current.page.hits, ...page.hits] }
        : page;
      view.value = { state: "ready", page: merged, error: null };
    } catch (err) {
      if (mine !== generation) return;
      const message = err instanceof RpcError && err.code === -32602
        ? err.message
        : `Cannot search: ${messageOf(err)}`;
      view.value = { state: "error", page: null, error: message };
    }
  }
  return { view, run };
}
