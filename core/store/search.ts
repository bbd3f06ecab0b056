/**
 * Full-text search over the stored lines (SQLite FTS5, contentless: the text lives once, in
 * `messages.raw`). {@linkcode SearchIndexer} follows committed lines in small batches after the
 * writer's commits (never inside them) and backfills an existing database the same way;
 * {@linkcode searchMessages} answers queries; {@linkcode checkSearchIndex} and
 * {@linkcode rebuildSearchIndex} are for `doctor`.
 * @module
 */
import type { AgentKind, AgentStatus } from "../models/mod.ts";
import { type Connection, connectionOf } from "./_connection.ts";
import { messageOf } from "./errors.ts";
import { SEARCH_AGENT_DOCS_SQL, SEARCH_FTS_DDL } from "./migrations.ts";
import {
  parseSearchQuery,
  SearchSyntaxError,
  snippetOf,
  type SnippetPart,
} from "./search_query.ts";
import { agentSearchText, type SearchField, searchTextOf } from "./search_text.ts";
import type { Store } from "./store.ts";

/** Filters and page of {@linkcode searchMessages}. */
export interface SearchQuery {
  q: string;
  /** Only agents in this working directory. */
  cwd?: string;
  /** Only agents in these statuses (empty: all). */
  status?: readonly AgentStatus[];
  /** Only agents of these kinds (empty: all but shadows). */
  kind?: readonly AgentKind[];
  /** Only lines received at or after this epoch ms. */
  since?: number;
  /** Only lines received before this epoch ms. */
  until?: number;
  /** 1..100. */
  limit: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /** Cut snippets with thinking text included (as the indexer was told). */
  thinking?: boolean;
}

/** One matching line (or, with `seq` null, an agent whose name or cwd matched). */
export interface SearchHit {
  agent_id: string;
  name: string | null;
  cwd: string;
  status: AgentStatus;
  kind: AgentKind;
  /** The line's seq; null when the agent's name or cwd matched. */
  seq: number | null;
  /** When the line was received (the agent's creation for an agent hit), epoch ms. */
  ts: number;
  field: SearchField;
  snippet: SnippetPart[];
}

/** One page of hits, newest first (agent name/cwd hits after every line hit). */
export interface SearchPage {
  hits: SearchHit[];
  /** Matching lines and agents on all pages, counted up to {@linkcode TOTAL_CAP}. */
  total: number;
  /** true when there are more than `total` matches (the count stopped at the cap). */
  total_capped: boolean;
  next_cursor: string | null;
}

/** Totals are counted up to this many matches: counting a common word exactly costs too much. */
export const TOTAL_CAP = 1000;

/** How far the index is. */
export interface SearchStatus {
  /** Highest message rowid indexed. */
  indexed_rowid: number;
  /** Highest message rowid stored. */
  max_rowid: number;
  /** Lines stored after the watermark (an upper bound: deleted rowids leave gaps). */
  pending: number;
  /** Nothing pending: every committed line is searchable. */
  ready: boolean;
  /** When the index was last rebuilt, epoch ms; null when never. */
  rebuilt_at: number | null;
}

interface Filters {
  sql: string;
  values: Array<string | number>;
}

function filtersOf(q: SearchQuery, line: boolean): Filters {
  const parts: string[] = [];
  const values: Array<string | number> = [];
  if (q.cwd !== undefined) {
    parts.push("a.cwd = ?");
    values.push(q.cwd);
  }
  if (q.status && q.status.length > 0) {
    parts.push(`a.status IN (${q.status.map(() => "?").join(", ")})`);
    values.push(...q.status);
  }
  if (q.kind && q.kind.length > 0) {
    parts.push(`a.kind IN (${q.kind.map(() => "?").join(", ")})`);
    values.push(...q.kind);
  } else {
    // Shadows (naming, commit message) repeat their parent's words: only when asked for.
    parts.push("a.kind != 'shadow'");
  }
  const tsColumn = line ? "m.ts" : "a.created_at";
  if (q.since !== undefined) {
    parts.push(`${tsColumn} >= ?`);
    values.push(q.since);
  }
  if (q.until !== undefined) {
    parts.push(`${tsColumn} < ?`);
    values.push(q.until);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(""), values };
}

function cursorOf(raw: string | undefined): number {
  if (raw === undefined) return Number.MAX_SAFE_INTEGER;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new SearchSyntaxError("Cannot search: the cursor is not valid");
  }
  return n;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

function match<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // The translation quotes every term, so this is a safety net, not the expected path.
    if (/fts5|syntax error|unterminated/i.test(messageOf(err))) {
      throw new SearchSyntaxError(`Cannot search: ${messageOf(err)}`, { cause: err });
    }
    throw err;
  }
}

/**
 * Searches the index: lines first (newest first), then agents whose name or cwd matched.
 * @throws {SearchSyntaxError} for a query the syntax does not allow, or a bad cursor.
 */
export function searchMessages(store: Store, query: SearchQuery): SearchPage {
  const conn = connectionOf(store);
  const parsed = parseSearchQuery(query.q);
  const limit = Math.max(1, Math.min(100, Math.trunc(query.limit)));
  const cursor = cursorOf(query.cursor);
  const lines = filtersOf(query, true);
  const agents = filtersOf(query, false);
  const hits: SearchHit[] = [];
  let last = cursor;
  if (cursor > 0) {
    const rows = match(() =>
      conn.prepare(
        `SELECT f.rowid AS rid, m.seq, m.ts, m.type, m.raw, a.id, a.name, a.cwd, a.status, a.kind
         FROM search_fts f JOIN messages m ON m.rowid = f.rowid
         JOIN agents a ON a.agent_key = m.agent_key
         WHERE search_fts MATCH ? AND f.rowid > 0 AND f.rowid < ?${lines.sql}
         ORDER BY f.rowid DESC LIMIT ?`,
      ).all(parsed.fts, cursor, ...lines.values, limit + 1)
    );
    for (const r of rows.slice(0, limit)) {
      const raw = decoder.decode(r.raw as Uint8Array);
      const text = searchTextOf(
        raw,
        r.type as string | null,
        { thinking: query.thinking ?? false },
      );
      hits.push({
        agent_id: r.id as string,
        name: r.name as string | null,
        cwd: r.cwd as string,
        status: r.status as AgentStatus,
        kind: r.kind as AgentKind,
        seq: r.seq as number,
        ts: r.ts as number,
        field: text?.field ?? "assistant",
        snippet: snippetOf(text?.text ?? "", parsed.terms),
      });
      last = r.rid as number;
    }
    if (rows.length > limit) return page(conn, parsed.fts, query, hits, String(last));
  }
  const remaining = limit - hits.length;
  if (remaining > 0) {
    const from = Math.min(cursor, 0);
    const rows = match(() =>
      conn.prepare(
        `SELECT f.rowid AS rid, a.id, a.name, a.cwd, a.status, a.kind, a.created_at
         FROM search_fts f JOIN agents a ON a.agent_key = -f.rowid
         WHERE search_fts MATCH ? AND f.rowid < ?${agents.sql}
         ORDER BY f.rowid DESC LIMIT ?`,
      ).all(parsed.fts, from, ...agents.values, remaining + 1)
    );
    for (const r of rows.slice(0, remaining)) {
      hits.push({
        agent_id: r.id as string,
        name: r.name as string | null,
        cwd: r.cwd as string,
        status: r.status as AgentStatus,
        kind: r.kind as AgentKind,
        seq: null,
        ts: r.created_at as number,
        field: "agent",
        snippet: snippetOf(agentSearchText(r.name as string | null, r.cwd as string), parsed.terms),
      });
      last = r.rid as number;
    }
    const more = rows.length > remaining;
    return page(conn, parsed.fts, query, hits, more ? String(last) : null);
  }
  return page(conn, parsed.fts, query, hits, null);
}

function page(
  conn: Connection,
  fts: string,
  query: SearchQuery,
  hits: SearchHit[],
  next: string | null,
): SearchPage {
  const lines = filtersOf(query, true);
  const agents = filtersOf(query, false);
  const row = match(() =>
    conn.prepare(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM search_fts f JOIN messages m ON m.rowid = f.rowid
           JOIN agents a ON a.agent_key = m.agent_key
           WHERE search_fts MATCH ? AND f.rowid > 0${lines.sql}
         UNION ALL
         SELECT 1 FROM search_fts f JOIN agents a ON a.agent_key = -f.rowid
           WHERE search_fts MATCH ? AND f.rowid < 0${agents.sql}
         LIMIT ?)`,
    ).get(fts, ...lines.values, fts, ...agents.values, TOTAL_CAP + 1)
  ) as { n: number };
  return {
    hits,
    total: Math.min(row.n, TOTAL_CAP),
    total_capped: row.n > TOTAL_CAP,
    next_cursor: next,
  };
}

/** How far the index is behind the stored lines. */
export function searchStatus(store: Store): SearchStatus {
  const conn = connectionOf(store);
  const state = conn.prepare("SELECT watermark, rebuilt_at FROM search_state WHERE id = 1")
    .get() as { watermark: number; rebuilt_at: number | null };
  const max = (conn.prepare("SELECT coalesce(max(rowid), 0) AS m FROM messages").get() as {
    m: number;
  }).m;
  const pending = Math.max(0, max - state.watermark);
  return {
    indexed_rowid: state.watermark,
    max_rowid: max,
    pending,
    ready: pending === 0,
    rebuilt_at: state.rebuilt_at,
  };
}

/**
 * FTS5's own `integrity-check` of the index: `"ok"`, or what is wrong. A damaged index only affects
 * search; {@linkcode rebuildSearchIndex} recreates it from the stored lines.
 */
export function checkSearchIndex(store: Store): string {
  const conn = connectionOf(store);
  try {
    conn.db.exec("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 0)");
    return "ok";
  } catch (err) {
    return messageOf(err);
  }
}

/**
 * Drops and recreates the index with every agent's name and cwd, and resets the watermark: the
 * indexer then re-indexes every line in the background (`searchStatus().pending` shows progress).
 */
export function rebuildSearchIndex(store: Store): void {
  const conn = connectionOf(store);
  conn.immediate(() => {
    conn.db.exec("DROP TABLE IF EXISTS search_fts");
    conn.db.exec(SEARCH_FTS_DDL);
    conn.db.exec(SEARCH_AGENT_DOCS_SQL);
    conn.prepare("UPDATE search_state SET watermark = 0, rebuilt_at = ? WHERE id = 1")
      .run(Date.now());
  });
}

/** Options for {@linkcode indexSearchBatch}. */
export interface IndexBatchOptions {
  thinking?: boolean;
  /** Stop after about this many ms (the rows done so far commit). Default: no limit. */
  budgetMs?: number;
}

/** Lines longer than this are not parsed for search (a parse would stall the event loop). */
export const MAX_INDEXED_LINE_BYTES = 8 * 1024 * 1024;

/**
 * Indexes up to `maxRows` lines after the watermark in one transaction (fewer when
 * `options.budgetMs` runs out); returns how many lines it looked at (0 when up to date).
 */
export function indexSearchBatch(
  store: Store,
  maxRows: number,
  options: IndexBatchOptions = {},
): number {
  const conn = connectionOf(store);
  // The index is derived data and its watermark commits with it: a transaction lost to a power
  // cut is indexed again. So no fsync of its own (WAL + synchronous=NORMAL): the writer's next
  // FULL commit syncs these frames too. An fsync per indexing step cost ingest up to a quarter.
  const sync = (conn.db.prepare("PRAGMA synchronous").get() as { synchronous: number })
    .synchronous;
  const relax = !conn.db.isTransaction && sync > 1;
  if (relax) conn.db.exec("PRAGMA synchronous = NORMAL");
  try {
    return indexBatch(conn, maxRows, options);
  } finally {
    if (relax) conn.db.exec(`PRAGMA synchronous = ${sync}`);
  }
}

function indexBatch(conn: Connection, maxRows: number, options: IndexBatchOptions): number {
  const t0 = performance.now();
  return conn.immediate(() => {
    const { watermark } = conn.prepare("SELECT watermark FROM search_state WHERE id = 1").get() as {
      watermark: number;
    };
    const insert = conn.prepare("INSERT OR REPLACE INTO search_fts (rowid, body) VALUES (?, ?)");
    // Iterated, not read at once: lines can be megabytes each.
    const rows = conn.prepare(
      `SELECT rowid AS rid, type, byte_length, raw FROM messages WHERE rowid > ?
       ORDER BY rowid LIMIT ?`,
    ).iterate(watermark, maxRows);
    let done = 0;
    let last = watermark;
    for (const r of rows) {
      if ((r.byte_length as number) <= MAX_INDEXED_LINE_BYTES) {
        const text = searchTextOf(
          decoder.decode(r.raw as Uint8Array),
          r.type as string | null,
          options,
        );
        if (text) insert.run(r.rid as number, text.text);
      }
      last = r.rid as number;
      done++;
      if (options.budgetMs !== undefined && performance.now() - t0 >= options.budgetMs) break;
    }
    if (done === 0) return 0;
    conn.prepare("UPDATE search_state SET watermark = ? WHERE id = 1").run(last);
    return done;
  });
}

/** A commit this recent means lines are arriving: the indexer steps back. */
const BUSY_WINDOW_MS = 250;

/** Options for {@linkcode SearchIndexer}. */
export interface SearchIndexerOptions {
  /** Index thinking blocks. Default false. */
  thinking?: boolean;
  /** At most this many lines per transaction. Default 512. */
  batchRows?: number;
  /** A step stops after about this many ms. Default 4: short steps keep RPC answers prompt. */
  stepMs?: number;
  /** Pause between steps while catching up, ms. Default 10. */
  pauseMs?: number;
  /** How long after a commit the indexer looks for new lines, ms. Default 100. */
  delayMs?: number;
  /** Called when a step fails (the indexer retries on the next notify). */
  onError?: (err: unknown) => void;
}

/**
 * Keeps the index up with the stored lines: `notify()` after a commit schedules a step soon;
 * while behind (a backfill, a rebuild) it steps every `pauseMs`. Runs on the store's connection in
 * its own short transactions, after the writer's commits.
 */
export class SearchIndexer {
  #store: Store;
  #thinking: boolean;
  #batchRows: number;
  #stepMs: number;
  #pauseMs: number;
  #delayMs: number;
  #onError: (err: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failures = 0;
  #lastNotify = -Infinity;

  constructor(store: Store, options: SearchIndexerOptions = {}) {
    this.#store = store;
    this.#thinking = options.thinking ?? false;
    this.#batchRows = options.batchRows ?? 512;
    this.#stepMs = options.stepMs ?? 4;
    this.#pauseMs = options.pauseMs ?? 10;
    this.#delayMs = options.delayMs ?? 100;
    this.#onError = options.onError ?? (() => {});
  }

  /** Whether thinking blocks are indexed (snippets must be cut the same way). */
  get thinking(): boolean {
    return this.#thinking;
  }

  /** Starts catching up (the backfill of an existing database). */
  start(): void {
    this.#schedule(0);
  }

  /** New lines were committed: look for them soon. */
  notify(): void {
    this.#lastNotify = performance.now();
    this.#schedule(this.#delayMs);
  }

  /** Indexes everything pending now, synchronously (tests, doctor). */
  catchUp(): void {
    while (indexSearchBatch(this.#store, this.#batchRows, { thinking: this.#thinking }) > 0) {
      // keep going
    }
  }

  /** Stops stepping. The watermark is durable: the next start continues where this one stopped. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#step();
    }, ms);
  }

  #step(): void {
    if (this.#closed) return;
    let n = 0;
    const t0 = performance.now();
    try {
      n = indexSearchBatch(this.#store, this.#batchRows, {
        thinking: this.#thinking,
        budgetMs: this.#stepMs,
      });
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      this.#onError(err);
      // Back off (a busy or damaged database); a notify or the next backoff tries again.
      this.#schedule(Math.min(60_000, 1000 * 2 ** Math.min(this.#failures, 6)));
      return;
    }
    // While catching up, rest in proportion to the step's cost: with lines arriving (a commit in
    // the last BUSY_WINDOW_MS) indexing takes at most a tenth of the event loop, so ingest keeps
    // its pace and the index catches up after the burst; when idle, a third.
    const cost = performance.now() - t0;
    const busy = performance.now() - this.#lastNotify < BUSY_WINDOW_MS;
    if (n > 0) this.#schedule(Math.max(this.#pauseMs, (busy ? 9 : 2) * cost));
  }
}
