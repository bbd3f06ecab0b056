/**
 * Island: the search page. The query and filters live in the URL (`/search?q=…&cwd=…&status=…
 * &kind=…&since=…`), so a search can be bookmarked and shared; hits are grouped by agent and
 * open the transcript at their line.
 * @module
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { AgentKind, AgentStatus } from "@hero/sdk";
import { SearchResults } from "../components/search_results.tsx";
import { STATUS_LABEL } from "../lib/format.ts";
import { call } from "../state/rpc.ts";
import { createSearch, filtersFromUrl, type SearchFilters, searchHref } from "../state/search.ts";

const PAGE_SIZE = 50;
const STATUSES = Object.keys(STATUS_LABEL) as AgentStatus[];
const KINDS: AgentKind[] = ["standard", "planner", "shadow", "imported"];

function SearchPageView() {
  const [filters, setFilters] = useState<SearchFilters>(() => filtersFromUrl(location.search));
  const [cwds, setCwds] = useState<string[]>([]);
  const [search] = useState(() => createSearch(PAGE_SIZE));

  const [pending, setPending] = useState(0);
  useEffect(() => {
    call("agent.cwds", {}).then((r) => setCwds(r.cwds.map((c) => c.cwd)), () => {});
    call("search.status", {}).then((r) => setPending(r.pending), () => {});
  }, []);
  useEffect(() => {
    history.replaceState(null, "", searchHref(filters));
    document.title = filters.q ? `“${filters.q}” · Search · Hero Orchestrator` : "Search";
    void search.run(filters);
  }, [filters.q, filters.cwd, filters.status, filters.kind, filters.since]);

  const set = (patch: Partial<SearchFilters>) => setFilters((f) => ({ ...f, ...patch }));
  const view = search.view.value;
  const page = view.page;
  return (
    <div class="search-page" data-state={view.state}>
      <h1>Search</h1>
      <form
        class="search-filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget as HTMLFormElement);
          set({ q: String(data.get("q") ?? "") });
        }}
      >
        <input
          type="search"
          name="q"
          class="search-page-input"
          aria-label="Query"
          placeholder='words, "a phrase", prefix*, -exclude'
          value={filters.q}
        />
        <select
          aria-label="Working directory"
          value={filters.cwd}
          onChange={(e) => set({ cwd: (e.currentTarget as HTMLSelectElement).value })}
        >
          <option value="">Any directory</option>
          {[...new Set([...cwds, ...(filters.cwd ? [filters.cwd] : [])])].map((c) => (
            <option key={c} value={c}>{c}</option>
          ))}
        </select>
        <select
          aria-label="Status"
          value={filters.status}
          onChange={(e) =>
            set({
              status: (e.currentTarget as HTMLSelectElement).value as SearchFilters["status"],
            })}
        >
          <option value="">Any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
        </select>
        <select
          aria-label="Kind"
          value={filters.kind}
          onChange={(e) =>
            set({ kind: (e.currentTarget as HTMLSelectElement).value as SearchFilters["kind"] })}
        >
          <option value="">Any kind</option>
          {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <select
          aria-label="Since"
          value={filters.since}
          onChange={(e) =>
            set({ since: (e.currentTarget as HTMLSelectElement).value as SearchFilters["since"] })}
        >
          <option value="">Any time</option>
          <option value="24h">Last 24 hours</option>
          <option value="7d">Last 7 days</option>
          <option value="30d">Last 30 days</option>
        </select>
        <button type="submit" class="button">Search</button>
      </form>
      {pending > 0
        ? (
          <p class="meta" role="status" data-testid="search-indexing">
            Indexing in the background: {pending.toLocaleString("en-US")}{" "}
            lines to go, so older lines may be missing from the results.
          </p>
        )
        : null}
      {view.error ? <p class="alert alert-error" role="alert">{view.error}</p> : null}
      {page
        ? (
          <>
            <p class="meta" data-testid="search-total">
              {page.total_capped ? `More than ${page.total}` : page.total}{" "}
              match{page.total === 1 ? "" : "es"}
            </p>
            <SearchResults page={page} q={filters.q.trim()} />
            {page.next_cursor
              ? (
                <button
                  type="button"
                  class="button button-quiet"
                  disabled={view.state === "loading"}
                  onClick={() => void search.run(filters, true)}
                >
                  More results
                </button>
              )
              : null}
          </>
        )
        : view.state === "loading"
        ? <p class="placeholder">Searching…</p>
        : !filters.q
        ? <p class="meta">Type words to find in prompts, answers, tool calls and agent names.</p>
        : null}
    </div>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement): void {
  render(<SearchPageView />, el);
}
