/**
 * Scenario 4, scale: a generated database (100k agents, 5M lines, one 1M-line transcript) served
 * by the real server. `agent.list` (unfiltered, by cwd, by bucket, a deep page) and
 * `agent.messages` (first, middle and last page of the long transcript) over rpc.sock, p50/p99;
 * then the admin's dashboard and agent pages (shell + the RPC batches their islands send) when
 * `admin/main.ts` runs.
 *
 * Baseline, same run: the same reads through `Store` in this process (node:sqlite, no RPC):
 * the storage floor. Plans come from `EXPLAIN QUERY PLAN` on SQL mirroring `core/store`.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { BUCKET_STATUSES, MAX_MESSAGES_PAGE_BYTES } from "@hero/core/rpc";
import { type AgentQuery, openStore } from "@hero/core/store";
import { unixFetch } from "@hero/server/testing/unix_fetch";
import { benchPath, startDaemon, until } from "./harness.ts";
import { scaleDb, type ScaleSize } from "./scale_db.ts";
import { summarize, type Summary } from "./stats.ts";
import { type BenchContext, type Figure, figure, type Scenario } from "./types.ts";

function size(mode: BenchContext["mode"]): ScaleSize {
  if (mode === "smoke") return { agents: 2_000, lines: 50_000, bigAgentLines: 10_000 };
  if (mode === "quick") return { agents: 20_000, lines: 1_000_000, bigAgentLines: 200_000 };
  return { agents: 100_000, lines: 5_000_000, bigAgentLines: 1_000_000 };
}

function reps(mode: BenchContext["mode"]): number {
  return mode === "smoke" ? 10 : mode === "quick" ? 50 : 200;
}

const WARMUP = 5;

/** One timed read: through RPC (`method`, `params`) and straight through the store. */
interface Read {
  id: string;
  label: string;
  method: "agent.list" | "agent.messages";
  params: Record<string, unknown>;
  direct: () => unknown;
  target?: { text: string; check: (p99: number) => boolean };
  /** SQL mirroring the store's, for EXPLAIN QUERY PLAN. */
  explain?: { sql: string; params: Array<string | number> };
}

async function time(n: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** A JSON-RPC call timed to the last byte of the answer (no client-side JSON parse). */
function rpcCaller(fetchFn: typeof fetch, path = "/rpc") {
  let id = 1;
  return async function call(body: unknown): Promise<string> {
    const response = await fetchFn(`http://localhost${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        Array.isArray(body) ? body : { jsonrpc: "2.0", id: id++, ...body as object },
      ),
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`Cannot call ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    }
    return text;
  };
}

function checkAnswer(text: string, what: string): unknown {
  const answer = JSON.parse(text);
  const items = Array.isArray(answer) ? answer : [answer];
  for (const a of items) {
    if (a.error) throw new Error(`Cannot read ${what}: ${JSON.stringify(a.error).slice(0, 300)}`);
  }
  return Array.isArray(answer) ? answer.map((a) => a.result) : answer.result;
}

function explain(dbPath: string, reads: Read[]): Record<string, string[]> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const plans: Record<string, string[]> = {};
  try {
    for (const r of reads) {
      if (!r.explain) continue;
      plans[r.id] = db.prepare(`EXPLAIN QUERY PLAN ${r.explain.sql}`).all(...r.explain.params)
        .map((row) => String(row.detail));
    }
  } finally {
    db.close();
  }
  return plans;
}

/** Starts `admin/main.ts` on the daemon's socket directory; null (with the reason) when it cannot. */
async function startAdmin(
  env: Record<string, string>,
  socketDir: string,
): Promise<{ child: Deno.ChildProcess; socket: string; stop(): Promise<void> } | string> {
  const main = new URL("../admin/main.ts", import.meta.url).pathname;
  try {
    await Deno.stat(main);
  } catch {
    return "admin/main.ts does not exist";
  }
  const socket = `${socketDir}/admin.sock`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", main],
    env: { ...env, PATH: benchPath() },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let err = "";
  const drain = (async () => {
    const d = new TextDecoder();
    for await (const c of child.stderr) err = (err + d.decode(c)).slice(-4000);
  })();
  let exited = false;
  child.status.then(() => (exited = true));
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    await child.status;
    await drain;
  };
  try {
    await until("the admin socket", async () => {
      if (exited) throw new Error(`admin exited: ${err.trim().split("\n").slice(-3).join(" ")}`);
      const t = unixFetch(socket);
      try {
        const r = await t.fetch("http://localhost/health");
        await r.body?.cancel();
        return r.ok;
      } catch {
        return false;
      } finally {
        t.close();
      }
    }, { timeoutMs: 30_000, intervalMs: 100 });
  } catch (e) {
    await stop();
    return `admin/main.ts did not start: ${e instanceof Error ? e.message : String(e)}`;
  }
  return { child, socket, stop };
}

function latencyFigure(
  id: string,
  label: string,
  rpc: Summary,
  base: Summary | null,
  baseLabel: string,
  target?: { text: string; check: (p99: number) => boolean },
): Figure {
  return figure({
    id,
    label: `${label} — p99 (p50 ${rpc.p50.toFixed(2)} ms)`,
    unit: "ms",
    value: rpc.p99,
    baseline: base ? { label: `${baseLabel}, p99`, value: base.p99 } : null,
    ...(target ? { target: target.text, check: (v: number) => target.check(v) } : {}),
    detail: { rpc, ...(base ? { baseline: base } : {}) },
  });
}

export const scenario: Scenario = {
  name: "scale",
  title: "Scale: list and transcript reads on a generated 100k-agent / 5M-line database",
  async run(ctx) {
    const s = size(ctx.mode);
    const n = reps(ctx.mode);
    const cache = await scaleDb(ctx.cacheDir, s, ctx.log);
    const notes: string[] = [];
    notes.push(
      cache.generated
        ? `database generated in ${
          cache.generateSeconds.toFixed(0)
        } s (cached in bench/out/cache for later runs)`
        : "database from bench/out/cache",
    );
    const big = cache.bigAgent;
    const listCols = "SELECT * FROM agents";
    const bucketSql = (b: keyof typeof BUCKET_STATUSES) => ({
      sql:
        `${listCols} WHERE status IN (SELECT value FROM json_each(?)) AND kind IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?`,
      params: [JSON.stringify(BUCKET_STATUSES[b]), JSON.stringify(["standard", "planner"]), 51],
    });
    const bucketQuery = (b: keyof typeof BUCKET_STATUSES): AgentQuery => ({
      statuses: BUCKET_STATUSES[b],
      kinds: ["standard", "planner"],
      limit: 50,
    });
    const listTarget = { text: "p99 ≤ 10 ms", check: (v: number) => v <= 10 };
    const pageTarget = { text: "first page ≤ 50 ms", check: (v: number) => v <= 50 };

    // The server on the database (it migrates a cache written by an older schema first).
    const dir = `${ctx.tmp}/daemon`;
    await Deno.mkdir(dir, { recursive: true });
    await using d = await startDaemon(dir, { PATH_VAR: cache.varRoot });
    // A search backfill would run during the timed reads (scaleDb marks the lines indexed).
    const search = await d.client.search.status({});
    if (!search.ready) {
      throw new Error(`Cannot time reads: ${search.pending} lines wait for the search index`);
    }
    const call = rpcCaller(d.fetch);
    // The baseline: the same reads through a Store in this process, on the same file.
    const store = openStore(cache.dbPath);
    let deepCursor: string | null = null;
    const reads: Read[] = [];
    try {
      // The cursor of a page half-way down the list, by walking pages of 500.
      let cursor: string | null = null;
      for (let seen = 0; seen < s.agents / 2;) {
        const page = store.listAgents({ limit: 500, cursor });
        seen += page.agents.length;
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      deepCursor = cursor;
      const deepId = store.listAgents({ limit: 1, cursor: deepCursor }).agents[0]?.id ?? "";
      const msgs = (after: number) => () =>
        store.readMessages(big.id, after, 200, { maxBytes: MAX_MESSAGES_PAGE_BYTES });
      const ro = new DatabaseSync(cache.dbPath, { readOnly: true });
      const bigKey = (ro.prepare("SELECT agent_key FROM agents WHERE id = ?").get(big.id) as {
        agent_key: number;
      }).agent_key;
      ro.close();
      const msgSql = (after: number) => ({
        sql:
          "SELECT seq, byte_length FROM messages WHERE agent_key = ? AND seq > ? ORDER BY seq LIMIT ?",
        params: [bigKey, after, 200],
      });
      const middle = Math.floor(big.lastSeq / 2);
      const last = Math.max(0, big.lastSeq - 200);
      reads.push(
        {
          id: "list.unfiltered",
          label: "agent.list, unfiltered (50)",
          method: "agent.list",
          params: {},
          direct: () => store.listAgents({ limit: 50 }),
          target: listTarget,
          explain: { sql: `${listCols} ORDER BY id DESC LIMIT ?`, params: [51] },
        },
        {
          id: "list.cwd",
          label: `agent.list by cwd (${cache.cwds.popular.count.toLocaleString("en-US")} agents)`,
          method: "agent.list",
          params: { cwd: cache.cwds.popular.cwd },
          direct: () => store.listAgents({ cwd: cache.cwds.popular.cwd, limit: 50 }),
          target: listTarget,
          explain: {
            sql: `${listCols} WHERE cwd = ? ORDER BY id DESC LIMIT ?`,
            params: [cache.cwds.popular.cwd, 51],
          },
        },
        {
          id: "list.cwd_rare",
          label: `agent.list by cwd (${cache.cwds.rare.count} agents)`,
          method: "agent.list",
          params: { cwd: cache.cwds.rare.cwd },
          direct: () => store.listAgents({ cwd: cache.cwds.rare.cwd, limit: 50 }),
          target: listTarget,
        },
        {
          id: "list.bucket_review",
          label: "agent.list bucket=awaiting_review (~2 %)",
          method: "agent.list",
          params: { bucket: "awaiting_review" },
          direct: () => store.listAgents(bucketQuery("awaiting_review")),
          target: listTarget,
          explain: bucketSql("awaiting_review"),
        },
        {
          id: "list.bucket_completed",
          label: "agent.list bucket=completed (~98 %)",
          method: "agent.list",
          params: { bucket: "completed" },
          direct: () => store.listAgents(bucketQuery("completed")),
          target: listTarget,
          explain: bucketSql("completed"),
        },
        {
          id: "list.deep",
          label: `agent.list deep page (after ${Math.round(s.agents / 2).toLocaleString("en-US")})`,
          method: "agent.list",
          params: deepCursor ? { cursor: deepCursor } : {},
          direct: () => store.listAgents({ limit: 50, cursor: deepCursor }),
          target: listTarget,
          explain: {
            sql: `${listCols} WHERE id < ? ORDER BY id DESC LIMIT ?`,
            params: [deepId, 51],
          },
        },
        {
          id: "messages.first",
          label: `agent.messages first page (200 of ${big.lastSeq.toLocaleString("en-US")})`,
          method: "agent.messages",
          params: { id: big.id, after_seq: 0 },
          direct: msgs(0),
          target: pageTarget,
          explain: msgSql(0),
        },
        {
          id: "messages.middle",
          label: "agent.messages middle page",
          method: "agent.messages",
          params: { id: big.id, after_seq: middle },
          direct: msgs(middle),
          explain: msgSql(middle),
        },
        {
          id: "messages.last",
          label: "agent.messages last page",
          method: "agent.messages",
          params: { id: big.id, after_seq: last },
          direct: msgs(last),
          explain: msgSql(last),
        },
      );
    } catch (err) {
      store.close();
      throw err;
    }
    const plans = explain(cache.dbPath, reads);
    ctx.log(`scale: ${reads.length} reads × ${n}, through the server and in-process, interleaved`);
    const direct = new Map<string, Summary>();
    const rpc = new Map<string, Summary>();
    try {
      for (const r of reads) {
        checkAnswer(await call({ method: r.method, params: r.params }), r.label);
        // Alternating, so both see the same noise of a shared machine.
        const viaRpc: number[] = [];
        const inProcess: number[] = [];
        for (let i = 0; i < WARMUP; i++) {
          r.direct();
          await call({ method: r.method, params: r.params });
        }
        for (let i = 0; i < n; i++) {
          let t0 = performance.now();
          r.direct();
          inProcess.push(performance.now() - t0);
          t0 = performance.now();
          await call({ method: r.method, params: r.params });
          viaRpc.push(performance.now() - t0);
        }
        direct.set(r.id, summarize(inProcess));
        rpc.set(r.id, summarize(viaRpc));
      }
    } finally {
      store.close();
    }
    const figures: Figure[] = [];
    const data: Record<string, unknown> = {
      size: s,
      reps: n,
      plans,
      generated: cache.generated,
      generate_seconds: cache.generateSeconds,
    };
    for (const r of reads) {
      const fig = latencyFigure(
        `scale.${r.id}`,
        r.label,
        rpc.get(r.id)!,
        direct.get(r.id)!,
        "Store in-process",
        r.target,
      );
      figures.push(fig);
      if (fig.met === false && plans[r.id]) {
        const base = direct.get(r.id)!;
        notes.push(
          `${r.id} missed: p99 ${fig.value!.toFixed(1)} ms, p50 ${
            rpc.get(r.id)!.p50.toFixed(2)
          } ms (in-process p99 ${base.p99.toFixed(1)} ms); plan ${plans[r.id]!.join(" → ")}`,
        );
      }
    }
    data.rpc = Object.fromEntries(rpc);
    data.direct = Object.fromEntries(direct);

    // The admin: page shells and the batches their islands send, against rpc.sock directly.
    const socketDir = d.socketPath.replace(/\/[^/]*$/, "");
    const admin = await startAdmin(d.env, socketDir);
    if (typeof admin === "string") {
      notes.push(`admin pages not run: ${admin}`);
      figures.push(figure({
        id: "scale.admin",
        label: `admin pages: not run (${admin})`,
        unit: "ms",
        value: null,
      }));
    } else {
      try {
        const t = unixFetch(admin.socket);
        const adminCall = rpcCaller(t.fetch);
        const get = async (path: string) => {
          const r = await t.fetch(`http://localhost${path}`);
          const body = await r.text();
          if (r.status !== 200) {
            throw new Error(`Cannot GET ${path}: HTTP ${r.status} ${body.slice(0, 200)}`);
          }
          return body;
        };
        const dashboardBatch = [
          { jsonrpc: "2.0", id: 1, method: "system.health", params: {} },
          {
            jsonrpc: "2.0",
            id: 2,
            method: "agent.list",
            params: { bucket: "running", limit: 500 },
          },
          {
            jsonrpc: "2.0",
            id: 3,
            method: "agent.list",
            params: { bucket: "awaiting_review", limit: 500 },
          },
          {
            jsonrpc: "2.0",
            id: 4,
            method: "agent.list",
            params: { bucket: "completed", limit: 50 },
          },
        ];
        const agentBatch = [
          { jsonrpc: "2.0", id: 1, method: "system.health", params: {} },
          { jsonrpc: "2.0", id: 2, method: "agent.get", params: { id: big.id } },
        ];
        const lastPage = {
          method: "agent.messages",
          params: { id: big.id, after_seq: Math.max(0, big.lastSeq - 200), limit: 200 },
        };
        checkAnswer(await adminCall(dashboardBatch), "the dashboard batch");
        const adminN = Math.max(10, Math.round(n / 2));
        const shell = summarize(await time(adminN, () => get("/")));
        const dash = summarize(await time(adminN, () => adminCall(dashboardBatch)));
        const dashDirect = summarize(await time(adminN, () => call(dashboardBatch)));
        const agentShell = summarize(await time(adminN, () => get(`/agents/${big.id}`)));
        const agentData = summarize(
          await time(adminN, async () => {
            await adminCall(agentBatch);
            await adminCall(lastPage);
          }),
        );
        const agentDirect = summarize(
          await time(adminN, async () => {
            await call(agentBatch);
            await call(lastPage);
          }),
        );
        t.close();
        figures.push(
          latencyFigure(
            "scale.admin.dashboard_shell",
            "admin GET / (dashboard shell)",
            shell,
            null,
            "",
          ),
          latencyFigure(
            "scale.admin.dashboard_data",
            "admin dashboard data (health + 3 lists, 1 batch)",
            dash,
            dashDirect,
            "same batch on rpc.sock",
          ),
          latencyFigure(
            "scale.admin.agent_shell",
            "admin GET /agents/:id (shell)",
            agentShell,
            null,
            "",
          ),
          latencyFigure(
            "scale.admin.agent_data",
            "admin agent page data (health+get, last page)",
            agentData,
            agentDirect,
            "same calls on rpc.sock",
          ),
        );
        data.admin = { shell, dash, dashDirect, agentShell, agentData, agentDirect };
      } finally {
        await admin.stop();
      }
    }
    await d.stop();
    return { figures, notes, data };
  },
};
