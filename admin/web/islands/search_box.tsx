/**
 * Island: the header's search box, on every page. `/` focuses it, Ctrl+K / ⌘K focuses it from
 * anywhere (even from a text field). Typing shows the newest hits grouped by agent; Enter opens
 * the search page with every hit and the filters.
 * @module
 */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { SearchResults } from "../components/search_results.tsx";
import { createSearch, filtersFromUrl, NO_FILTERS, searchHref } from "../state/search.ts";

const QUICK_LIMIT = 10;
const DEBOUNCE_MS = 200;

function typingInField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

function SearchBox({ initial }: { initial: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [q, setQ] = useState(initial);
  const [open, setOpen] = useState(false);
  const [search] = useState(() => createSearch(QUICK_LIMIT));

  useEffect(() => {
    function onKey(e: KeyboardEvent): void {
      const el = input.current;
      if (!el) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        el.focus();
        el.select();
        setOpen(true);
      } else if (e.key === "/" && !e.ctrlKey && !e.metaKey && !typingInField(e.target)) {
        e.preventDefault();
        el.focus();
        el.select();
        setOpen(true);
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    const timer = setTimeout(() => void search.run({ ...NO_FILTERS, q }), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q]);

  const view = search.view.value;
  const showPanel = open && q.trim().length > 0;
  return (
    <div
      class="search-box"
      onFocusOut={(e) => {
        const next = e.relatedTarget as Node | null;
        if (!next || !(e.currentTarget as HTMLElement).contains(next)) setOpen(false);
      }}
    >
      <form
        role="search"
        action={searchHref({})}
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) location.assign(searchHref({ q: q.trim() }));
        }}
      >
        <input
          ref={input}
          type="search"
          name="q"
          class="search-input"
          placeholder="Search transcripts  (Ctrl+K)"
          aria-label="Search transcripts"
          aria-keyshortcuts="Control+K Meta+K /"
          autocomplete="off"
          value={q}
          onInput={(e) => {
            setQ((e.currentTarget as HTMLInputElement).value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              setOpen(false);
              input.current?.blur();
            }
          }}
        />
      </form>
      {showPanel
        ? (
          <div class="search-popup panel" data-testid="search-popup" data-state={view.state}>
            {view.error ? <p class="alert alert-error" role="alert">{view.error}</p> : view.page
              ? (
                <>
                  <SearchResults page={view.page} q={q.trim()} onOpen={() => setOpen(false)} />
                  <a class="search-all" href={searchHref({ q: q.trim() })}>
                    All {view.page.total_capped ? `${view.page.total}+` : view.page.total}{" "}
                    results and filters →
                  </a>
                </>
              )
              : <p class="meta">Searching…</p>}
          </div>
        )
        : null}
    </div>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement): void {
  const initial = location.pathname.endsWith("/search") ? filtersFromUrl(location.search).q : "";
  render(<SearchBox initial={initial} />, el);
}
