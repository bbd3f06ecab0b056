/**
 * Scenario: full-text search. On the cached database of the scale scenario (its lines indexed in
 * place once, then reused): `searchMessages` p50/p99 for a common word (in nearly every line) and a
 * rare one (one agent's name), limit 20, in this process (the storage floor; RPC adds its
 * envelope); the index's size against the text it covers. Then ingest with the background indexer
 * running against ingest without it, on a fresh database (the same writer and lines).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import {
  indexSearchBatch,
  MessageWriter,
  openStore,
  SearchIndexer,
  searchMessages,
  searchStatus,
  searchTextOf,
} from "@hero/core/store";
import { newId } from "@hero/core/models";
import { scaleDb, type ScaleSize } from "./scale_db.ts";
import { summarize } from "./stats.ts";
import { type BenchContext, type Figure, figure, type Scenario } from "./types.ts";

function size(mode: BenchContext["mode"]): ScaleSize {
  if (mode === "smoke") return { agents: 2_000, lines: 50_000, bigAgentLines: 10_000 };
  if (mode === "quick") return { agents: 20_000, lines: 1_000_000, bigAgentLines: 200_000 };
  return { agents: 100_000, lines: 5_000_000, bigAgentLines: 1_000_000 };
}

function reps(mode: BenchContext["mode"]): number {
  return mode === "smoke" ? 20 : mode === "quick" ? 100 : 300;
}

function ingestLines(mode: BenchContext["mode"]): number {
  return mode === "smoke" ? 4_000 : mode === "quick" ? 40_000 : 200_000;
}

const WARMUP = 5;
/** Lines per indexing transaction while backfilling the fixture. */
const BACKFILL_BATCH = 5_000;

function timeSync(n: number, fn: () => unknown): number[] {
  for (let i = 0; i < WARMUP; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Bytes of the FTS5 shadow tables (dbstat). */
function indexBytes(dbPath: string): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (db.prepare(
      "SELECT coalesce(sum(pgsize), 0) AS n FROM dbstat WHERE name LIKE 'search_fts%'",
    ).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** UTF-8 bytes of the text the index covers: lines (sampled, scaled up) plus agent names/cwds. */
function coveredBytes(dbPath: string, sample: number): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const enc = new TextEncoder();
  try {
    const { n, max } = db.prepare(
      "SELECT count(*) AS n, coalesce(max(rowid), 0) AS max FROM messages",
    )
      .get() as { n: number; max: number };
    const stride = Math.max(1, Math.floor(max / sample));
    const rows = db.prepare(
      "SELECT type, raw FROM messages WHERE rowid % ? = 0 LIMIT ?",
    ).all(stride, sample) as Array<{ type: string | null; raw: Uint8Array }>;
    const dec = new TextDecoder();
    let bytes = 0;
    for (const r of rows) {
      bytes += enc.encode(searchTextOf(dec.decode(r.raw), r.type)?.text ?? "").length;
    }
    const lines = rows.length > 0 ? (bytes / rows.length) * n : 0;
    const agents = (db.prepare(
      "SELECT coalesce(sum(length(CAST(coalesce(name, '') || ' ' || cwd AS BLOB))), 0) AS b FROM agents",
    ).get() as { b: number }).b;
    return lines + agents;
  } finally {
    db.close();
  }
}

const WORDS = (
  "refactor module tests green parser lexer token stream writer reader commit branch merge " +
  "rebase deploy config schema migration index query cursor page limit filter agent session " +
  "prompt answer tool bash edit read write grep glob diff patch review build lint format check"
).split(" ");

function realisticLine(i: number, rand: () => number): Uint8Array {
  const words: string[] = [];
  const n = 40 + Math.floor(rand() * 40);
  for (let k = 0; k < n; k++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  words.push(`item${i}`);
  return new TextEncoder().encode(JSON.stringify({
    type: "assistant",
    message: { role: "assistant", content: [{ type: "text", text: words.join(" ") }] },
    session_id: "00000000-0000-4000-8000-000000000000",
  }));
}

/** Lines/s through the writer (10 agents), with or without the indexer following commits. */
export async function ingestOnce(
  dir: string,
  lines: number,
  withIndexer: boolean,
): Promise<{ linesPerS: number; searchableMs: number | null }> {
  const path = `${dir}/ingest-${withIndexer ? "idx" : "base"}-${crypto.randomUUID()}.sqlite`;
  const store = openStore(path);
  try {
    const ids = store.write(() =>
      Array.from({ length: 10 }, (_, i) =>
        store.insertAgent({
          id: newId(),
          prompt: "p",
          cwd: `/bench/${i}`,
          model: "m",
          effort: "low",
          kind: "standard",
        }).id)
    );
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const payloads = Array.from({ length: 512 }, (_, i) => realisticLine(i, rand));
    const indexer = withIndexer ? new SearchIndexer(store) : null;
    indexer?.start();
    // The daemon's writer settings (core/config): 50 ms window, none after an idle spell.
    const writer = new MessageWriter(store, {
      idleDelayMs: 0,
      onCommit: () => indexer?.notify(),
    });
    const t0 = performance.now();
    const CHUNK = 500;
    for (let n = 0; n < lines; n += CHUNK) {
      const pending: Promise<unknown>[] = [];
      for (let i = n; i < Math.min(lines, n + CHUNK); i++) {
        pending.push(writer.append({
          agentId: ids[i % ids.length]!,
          bytes: payloads[i % payloads.length]!,
          ts: Date.now(),
          type: "assistant",
          subtype: null,
          parseError: false,
          eofNoNewline: false,
        }));
      }
      await Promise.all(pending);
    }
    const ingestMs = performance.now() - t0;
    await writer.close();
    let searchableMs: number | null = null;
    if (indexer) {
      while (!searchStatus(store).ready) await new Promise((r) => setTimeout(r, 5));
      searchableMs = performance.now() - t0;
      indexer.close();
    }
    return { linesPerS: lines / (ingestMs / 1000), searchableMs };
  } finally {
    store.close();
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
  }
}

export const scenario: Scenario = {
  name: "search",
  title: "Full-text search on the scale database; ingest with the indexer running",
  async run(ctx) {
    const notes: string[] = [];
    const figures: Figure[] = [];
    const s = size(ctx.mode);
    const cache = await scaleDb(ctx.cacheDir, s, ctx.log);
    const store = openStore(cache.dbPath);
    let backfill: Record<string, number> = {};
    try {
      const before = searchStatus(store);
      if (!before.ready) {
        ctx.log(
          `search: indexing ${before.pending.toLocaleString("en-US")} lines (kept in the cache)`,
        );
        const t0 = performance.now();
        let done = 0;
        for (let n; (n = indexSearchBatch(store, BACKFILL_BATCH)) > 0;) {
          done += n;
          if (done % 500_000 < BACKFILL_BATCH) {
            ctx.log(`search: ${done.toLocaleString("en-US")} lines indexed`);
          }
        }
        const seconds = (performance.now() - t0) / 1000;
        backfill = { lines: done, seconds, lines_per_s: done / seconds };
        notes.push(
          `indexed ${done.toLocaleString("en-US")} lines of the cached fixture in ${
            seconds.toFixed(1)
          } s (${
            Math.round(done / seconds).toLocaleString("en-US")
          } lines/s, batches of ${BACKFILL_BATCH}); later runs reuse it`,
        );
      }
      // Rare: the number of one named agent ("task <n>"): a single document.
      const ro = new DatabaseSync(cache.dbPath, { readOnly: true });
      const named = ro.prepare(
        "SELECT name FROM agents WHERE name LIKE 'task %' ORDER BY agent_key DESC LIMIT 1",
      ).get() as { name: string };
      ro.close();
      const rareWord = named.name.split(" ")[1]!;
      const n = reps(ctx.mode);
      const queries = [
        { id: "common", q: "lorem", target: 50, note: "in nearly every assistant line" },
        { id: "rare", q: rareWord, target: 20, note: `one agent's name ("${named.name}")` },
      ];
      for (const query of queries) {
        let page = searchMessages(store, { q: query.q, limit: 20 });
        const samples = timeSync(
          n,
          () => (page = searchMessages(store, { q: query.q, limit: 20 })),
        );
        const sum = summarize(samples);
        figures.push(figure({
          id: `search.${query.id}.p99_ms`,
          label: `search.query "${query.q}" limit 20 (${query.note}): p99`,
          unit: "ms",
          value: sum.p99,
          target: `≤ ${query.target} ms`,
          check: (v) => v <= query.target,
          detail: { ...sum, hits: page.hits.length, total: page.total, capped: page.total_capped },
        }));
      }
      const index = indexBytes(cache.dbPath);
      const covered = coveredBytes(cache.dbPath, ctx.mode === "smoke" ? 5_000 : 50_000);
      figures.push(figure({
        id: "search.index_ratio",
        label: "index size ÷ text it covers",
        unit: "×",
        value: covered > 0 ? index / covered : null,
        target: "≤ 1.0×",
        check: (v) => v <= 1.0,
        detail: { index_bytes: index, covered_bytes: Math.round(covered) },
      }));
      notes.push(
        "the fixture's lines repeat the same filler words, so the index compresses better than on real transcripts; the ingest figure below uses varied text",
      );
    } finally {
      store.close();
    }

    // Ingest: alternate runs, best of two each, so a noisy neighbour hurts both sides alike.
    const lines = ingestLines(ctx.mode);
    const base: number[] = [];
    const withIdx: number[] = [];
    const searchable: number[] = [];
    for (let round = 0; round < 2; round++) {
      base.push((await ingestOnce(ctx.tmp, lines, false)).linesPerS);
      const r = await ingestOnce(ctx.tmp, lines, true);
      withIdx.push(r.linesPerS);
      if (r.searchableMs !== null) searchable.push(r.searchableMs);
    }
    figures.push(figure({
      id: "search.ingest_lines_per_s",
      label: `ingest with the indexer following commits (${
        lines.toLocaleString("en-US")
      } lines, 10 agents)`,
      unit: "lines/s",
      value: Math.max(...withIdx),
      baseline: { label: "the same ingest without the indexer", value: Math.max(...base) },
      target: "≥ 0.9× (no more than 10 % slower)",
      check: (_v, ratio) => ratio !== null && ratio >= 0.9,
      detail: { base, with_indexer: withIdx, all_searchable_after_ms: searchable, backfill },
    }));
    return { figures, notes };
  },
};
