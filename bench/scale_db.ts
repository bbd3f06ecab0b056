/**
 * The generated database of scenario 4: many terminal agents and millions of stored lines, one
 * agent with a very long transcript. Written with the engine's own schema (migrations), cached in
 * `bench/out/cache` per schema version and size.
 * @module
 */
import { migrate, openDatabase } from "@hero/core/store/db";
import { SCHEMA_VERSION } from "@hero/core/store";
import { newId } from "@hero/core/models";
import { prng } from "./workload.ts";

/** Size of a generated database. */
export interface ScaleSize {
  agents: number;
  /** Stored lines in total. */
  lines: number;
  /** Lines of the one long transcript (part of `lines`). */
  bigAgentLines: number;
}

/** Bump when the generator's output changes, so old caches are not reused. */
const GENERATOR_VERSION = 1;
const DAY_MS = 24 * 60 * 60_000;
/** Distinct working directories; agents are spread over them Zipf-like (s = 1). */
const CWD_COUNT = 300;

/** What the scenario needs to know about a generated database. */
export interface ScaleDb {
  /** `PATH_VAR` for a daemon serving it. */
  varRoot: string;
  dbPath: string;
  size: ScaleSize;
  /** The agent with the long transcript, and its last seq. */
  bigAgent: { id: string; lastSeq: number };
  /** The most used cwd and a rarely used one, with their agent counts. */
  cwds: { popular: { cwd: string; count: number }; rare: { cwd: string; count: number } };
  /** An agent with a short transcript. */
  smallAgent: { id: string; lastSeq: number };
  /** Whether this run generated it (else it came from the cache). */
  generated: boolean;
  generateSeconds: number;
}

function cwdOf(rank: number): string {
  return `/home/dev/src/project-${String(rank).padStart(3, "0")}`;
}

/** Zipf(1) sampler over 1..n. */
function zipf(n: number, rand: () => number): () => number {
  const weights: number[] = [];
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += 1 / k;
    weights.push(total);
  }
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (weights[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/** A line of about `bytes` bytes shaped like an assistant line. */
function lineBytes(bytes: number, i: number): Uint8Array {
  const head =
    `{"type":"assistant","message":{"id":"msg_gen_${i}","type":"message","role":"assistant",` +
    `"content":[{"type":"text","text":"`;
  const tail = `"}],"usage":{"input_tokens":12,"output_tokens":6}},"parent_tool_use_id":null,` +
    `"session_id":"00000000-0000-4000-8000-000000000000"}`;
  const pad = Math.max(0, bytes - head.length - tail.length);
  return new TextEncoder().encode(head + "lorem ipsum ".repeat(pad / 12 + 1).slice(0, pad) + tail);
}

function text(rand: () => number, lo: number, hi: number): string {
  const n = Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));
  return "Refactor the module and keep the tests green. ".repeat(n / 46 + 1).slice(0, n);
}

/** Opens (or generates) the cached database of `size` under `cacheRoot`. */
export async function scaleDb(
  cacheRoot: string,
  size: ScaleSize,
  log: (message: string) => void,
): Promise<ScaleDb> {
  const name = `scale-s${SCHEMA_VERSION}-g${GENERATOR_VERSION}-a${size.agents}-l${size.lines}`;
  const varRoot = `${cacheRoot}/${name}/var`;
  const stateDir = `${varRoot}/hero_orchestrator`;
  const dbPath = `${stateDir}/db.sqlite`;
  const metaPath = `${cacheRoot}/${name}/meta.json`;
  try {
    const meta = JSON.parse(await Deno.readTextFile(metaPath));
    await Deno.stat(dbPath);
    skipSearchBackfill(dbPath);
    return { ...meta, varRoot, dbPath, generated: false, generateSeconds: 0 };
  } catch {
    // not cached (or incomplete): generate
  }
  await Deno.remove(`${cacheRoot}/${name}`, { recursive: true }).catch(() => {});
  await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
  log(
    `scale: generating ${size.agents.toLocaleString("en-US")} agents / ${
      size.lines.toLocaleString("en-US")
    } lines into ${dbPath} (cached for later runs)`,
  );
  const t0 = performance.now();
  const meta = generate(dbPath, size, log);
  const generateSeconds = (performance.now() - t0) / 1000;
  skipSearchBackfill(dbPath);
  await Deno.writeTextFile(metaPath, JSON.stringify(meta, null, 2));
  return { ...meta, varRoot, dbPath, generated: true, generateSeconds };
}

/**
 * Marks every line as indexed for search. The scenario times list and transcript reads; a daemon
 * opening millions of unindexed lines would backfill the index during the timed reads and the
 * figures would measure the backfill (bench/search.ts measures search on its own database).
 */
function skipSearchBackfill(dbPath: string): void {
  const db = openDatabase(dbPath);
  try {
    db.exec(
      "UPDATE search_state SET watermark = (SELECT coalesce(max(rowid), 0) FROM messages) WHERE id = 1",
    );
  } finally {
    db.close();
  }
}

function generate(
  dbPath: string,
  size: ScaleSize,
  log: (message: string) => void,
): Omit<ScaleDb, "varRoot" | "dbPath" | "generated" | "generateSeconds"> {
  const rand = prng(42);
  const pickCwd = zipf(CWD_COUNT, rand);
  const db = openDatabase(dbPath);
  try {
    migrate(db, dbPath);
    // A fixture, not data anyone keeps: no fsync per transaction while generating.
    db.exec("PRAGMA synchronous = OFF");
    const now = Date.now();
    const start = now - 180 * DAY_MS;
    const step = (180 * DAY_MS) / size.agents;
    // Line counts: the long transcript, the rest spread 1..2×mean over the other agents.
    const bigIndex = Math.floor(size.agents * 0.9);
    const rest = size.lines - size.bigAgentLines;
    const counts: number[] = [];
    let assigned = 0;
    for (let a = 0; a < size.agents; a++) {
      if (a === bigIndex) {
        counts.push(size.bigAgentLines);
        continue;
      }
      const mean = rest / (size.agents - 1);
      const n = Math.max(2, Math.round(mean * (0.1 + 1.8 * rand())));
      counts.push(n);
      assigned += n;
    }
    // Make the total exact (the last agents absorb the rounding).
    let diff = rest - assigned;
    for (let a = size.agents - 1; diff !== 0 && a >= 0; a--) {
      if (a === bigIndex) continue;
      const change = Math.max(2 - counts[a]!, diff);
      counts[a]! += change;
      diff -= change;
    }
    const pool = Array.from({ length: 64 }, (_, i) => {
      const bytes = Math.round(
        Math.exp(Math.log(150) + (i / 63) * (Math.log(1500) - Math.log(150))),
      );
      return lineBytes(bytes, i);
    });
    const init = new TextEncoder().encode(
      `{"type":"system","subtype":"init","cwd":"/home/dev","session_id":"00000000-0000-4000-8000-000000000000","tools":["Bash","Edit","Read","Write"],"model":"claude-sonnet-4-6","permissionMode":"bypassPermissions"}`,
    );
    const result = new TextEncoder().encode(
      `{"type":"result","subtype":"success","is_error":false,"duration_ms":81234,"num_turns":7,"result":"Done.","session_id":"00000000-0000-4000-8000-000000000000","total_cost_usd":0.42,"usage":{"input_tokens":1200,"output_tokens":800}}`,
    );
    const insertAgent = db.prepare(
      `INSERT INTO agents (id, name, prompt, cwd, model, effort, kind, status, session_id,
         created_at, updated_at, started_at, finished_at, exit_code, error_code, error_message,
         result, turn_count, num_turns, input_tokens, output_tokens, total_cost_usd, last_seq)
       VALUES (?, ?, ?, ?, 'claude-sonnet-4-6', 'medium', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 7,
         1200, 800, 0.42, ?)`,
    );
    const insertLine = db.prepare(
      `INSERT INTO messages (agent_key, seq, ts, type, subtype, byte_length, parse_error,
         eof_no_newline, raw) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)`,
    );
    let popular = { cwd: "", count: 0 };
    const perCwd = new Map<string, number>();
    let big = { id: "", lastSeq: 0 };
    let small = { id: "", lastSeq: 0 };
    let rows = 0;
    let inTx = 0;
    db.exec("BEGIN");
    for (let a = 0; a < size.agents; a++) {
      const created = Math.round(start + a * step);
      const id = newId(created);
      const r = rand();
      const status = r < 0.02
        ? "awaiting_review"
        : r < 0.9
        ? "completed"
        : r < 0.97
        ? "failed"
        : "cancelled";
      const k = rand();
      const kind = k < 0.97 ? "standard" : k < 0.99 ? "planner" : "shadow";
      const cwd = cwdOf(pickCwd());
      perCwd.set(cwd, (perCwd.get(cwd) ?? 0) + 1);
      const n = counts[a]!;
      const key = Number(
        insertAgent.run(
          id,
          rand() < 0.5 ? `task ${a}` : null,
          text(rand, 100, 3000),
          cwd,
          kind,
          status,
          crypto.randomUUID(),
          created,
          created + 60_000,
          created + 500,
          status === "awaiting_review" ? null : created + 60_000,
          status === "failed" ? 1 : 0,
          status === "failed" ? "exit_nonzero" : status === "cancelled" ? "cancelled" : null,
          status === "failed" ? "claude exited with code 1 before printing a result" : null,
          status === "failed" || status === "cancelled" ? null : text(rand, 50, 2000),
          n,
        ).lastInsertRowid,
      );
      if (a === bigIndex) big = { id, lastSeq: n };
      if (a === bigIndex - 1) small = { id, lastSeq: n };
      for (let seq = 1; seq <= n; seq++) {
        const line = seq === 1 ? init : seq === n ? result : pool[(seq * 7 + a) % 64]!;
        insertLine.run(
          key,
          seq,
          created + seq * 100,
          seq === 1 ? "system" : seq === n ? "result" : "assistant",
          seq === 1 ? "init" : seq === n ? "success" : null,
          line.byteLength,
          line,
        );
        rows++;
        if (++inTx >= 50_000) {
          db.exec("COMMIT; BEGIN");
          inTx = 0;
        }
      }
      if (a % 20_000 === 19_999) {
        log(`scale: ${a + 1} agents, ${rows.toLocaleString("en-US")} lines`);
      }
    }
    db.exec("COMMIT");
    // No ANALYZE: the daemon never runs it, so plans here are the ones production gets.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    let rare = { cwd: "", count: Infinity };
    for (const [cwd, count] of perCwd) {
      if (count > popular.count) popular = { cwd, count };
      if (count < rare.count) rare = { cwd, count };
    }
    return { size, bigAgent: big, smallAgent: small, cwds: { popular, rare } };
  } finally {
    db.close();
  }
}
