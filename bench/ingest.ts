/**
 * Scenario 1, ingest: N fake agents each print a transcript as fast as the pipe allows, through
 * the real server (child process) to committed rows. Every run starts the clock when all agents
 * are running and have their `system/init` line committed (a `flock` barrier holds them), and
 * stops it when no agent is left running (the result line is the last one and is committed
 * before the status changes).
 *
 * Baselines, same run, same lines: (a) batched inserts of the captured lines into node:sqlite in
 * one process (same schema and pragmas, 1,000 rows per transaction, messages only); (b) `cat` of
 * the captured bytes through N pipes; (c) the Agent SDK's `query()` spawning the same fake and
 * iterating the stream without storing it; (d) the fakes read straight through pipes (the
 * producer's own limit).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { query } from "@anthropic-ai/claude-agent-sdk";
import { migrate, openDatabase } from "@hero/core/store/db";
import { buildClaudeArgs } from "@hero/core/claude";
import {
  Barrier,
  benchHome,
  benchPath,
  busyCores,
  cpuShare,
  FAKE_CLAUDE_BIN,
  machineCpu,
  removeQuietly,
  sampleProc,
  spawnWithPrompt,
  startDaemon,
  until,
  withTimeout,
} from "./harness.ts";
import { median, percentile } from "./stats.ts";
import { type BenchContext, type Figure, figure, type Scenario } from "./types.ts";
import { stepBytes, transcriptSteps } from "./workload.ts";

interface Config {
  agents: number;
  linesPerAgent: number;
  reps: number;
}

function configs(mode: BenchContext["mode"]): Config[] {
  if (mode === "smoke") return [{ agents: 2, linesPerAgent: 300, reps: 1 }];
  if (mode === "quick") {
    return [
      { agents: 10, linesPerAgent: 2_000, reps: 2 },
      { agents: 50, linesPerAgent: 400, reps: 1 },
    ];
  }
  return [
    { agents: 10, linesPerAgent: 20_000, reps: 3 },
    { agents: 50, linesPerAgent: 20_000, reps: 2 },
  ];
}

/** One measured run: elapsed time from the barrier to the last commit. */
interface Run {
  seconds: number;
  linesPerS: number;
  mbPerS: number;
  /** Daemon CPU in cores over the run (daemon runs only). */
  daemonCores?: number;
  /** Busy cores of the whole machine over the run. */
  machineCores: number;
}

/** Lines an agent prints before the barrier step: init and the echo of its prompt. */
const PREAMBLE_LINES = 2;

const ARGS = buildClaudeArgs({
  model: "claude-sonnet-4-6",
  effort: "medium",
  permissionMode: "bypassPermissions",
});

function fakeEnv(): Record<string, string> {
  return { PATH: benchPath(), HOME: benchHome(), IS_SANDBOX: "1" };
}

function countNewlines(chunk: Uint8Array): number {
  let n = 0;
  let i = chunk.indexOf(10);
  while (i !== -1) {
    n++;
    i = chunk.indexOf(10, i + 1);
  }
  return n;
}

/** Spawns the fake directly with the orchestrator's argv and the scenario prompt on stdin. */
function spawnFake(prompt: string, cwd: string): Promise<Deno.ChildProcess> {
  return spawnWithPrompt({ bin: FAKE_CLAUDE_BIN, args: ARGS, cwd, prompt, env: fakeEnv() });
}

/** Runs the scenario once through the fake directly and keeps its stdout (the bytes every agent prints). */
async function capture(prompt: string, cwd: string, totalLines: number): Promise<Uint8Array> {
  const child = await spawnFake(prompt, cwd);
  const chunks: Uint8Array[] = [];
  let lines = 0;
  let size = 0;
  for await (const chunk of child.stdout) {
    chunks.push(chunk);
    size += chunk.byteLength;
    lines += countNewlines(chunk);
    if (lines >= totalLines) break;
  }
  await child.stdin.close().catch(() => {});
  await child.status;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  let i = bytes.indexOf(10);
  while (i !== -1) {
    lines.push(bytes.subarray(start, i));
    start = i + 1;
    i = bytes.indexOf(10, start);
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

/** (a) The storage limit: the same lines, batched 1,000 per `BEGIN IMMEDIATE` transaction. */
function sqliteRaw(dir: string, agents: number, lines: Uint8Array[]): Run {
  const path = `${dir}/raw.sqlite`;
  const db = openDatabase(path);
  try {
    migrate(db, path);
    const now = Date.now();
    const insertAgent = db.prepare(
      `INSERT INTO agents (id, prompt, cwd, model, effort, kind, status, created_at, updated_at)
       VALUES (?, 'p', '/tmp', 'm', 'low', 'standard', 'running', ?, ?)`,
    );
    for (let a = 1; a <= agents; a++) insertAgent.run(`raw-${a}`, now, now);
    const insert = db.prepare(
      `INSERT INTO messages (agent_key, seq, ts, type, subtype, byte_length, parse_error,
         eof_no_newline, raw) VALUES (?, ?, ?, 'assistant', NULL, ?, 0, 0, ?)`,
    );
    let bytes = 0;
    for (const l of lines) bytes += l.byteLength + 1;
    const total = agents * lines.length;
    const m0 = machineCpu();
    const t0 = performance.now();
    let done = 0;
    while (done < total) {
      db.exec("BEGIN IMMEDIATE");
      const end = Math.min(total, done + 1000);
      for (let k = done; k < end; k++) {
        // Interleaved like concurrent agents: row k is line floor(k / agents) of agent k % agents.
        const line = lines[Math.floor(k / agents)]!;
        insert.run((k % agents) + 1, Math.floor(k / agents) + 1, now, line.byteLength, line);
      }
      db.exec("COMMIT");
      done = end;
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      seconds,
      linesPerS: total / seconds,
      mbPerS: (agents * bytes) / 1e6 / seconds,
      machineCores: busyCores(m0, machineCpu()),
    };
  } finally {
    db.close();
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        Deno.removeSync(path + suffix);
      } catch {
        // not there
      }
    }
  }
}

/** (b) `cat` of the captured bytes through `agents` pipes, drained by this process. */
async function catPipes(file: string, agents: number, bytes: number): Promise<Run> {
  const m0 = machineCpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: agents }, async () => {
    const child = new Deno.Command("cat", { args: [file], stdout: "piped", stderr: "null" })
      .spawn();
    let n = 0;
    for await (const chunk of child.stdout) n += chunk.byteLength;
    await child.status;
    if (n !== bytes) throw new Error(`Cannot run the cat baseline: read ${n} of ${bytes} bytes`);
  }));
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    linesPerS: NaN,
    mbPerS: (agents * bytes) / 1e6 / seconds,
    machineCores: busyCores(m0, machineCpu()),
  };
}

/** (d) The fakes themselves, read straight through pipes and discarded. */
async function fakePipes(
  prompt: string,
  cwd: string,
  agents: number,
  barrier: Barrier,
  totalLines: number,
  measured: { lines: number; bytes: number },
): Promise<Run> {
  const ready = Promise.withResolvers<void>();
  let started = 0;
  let t0 = 0;
  const ends = await (async () => {
    const runs = Array.from({ length: agents }, async () => {
      const child = await spawnFake(prompt, cwd);
      let lines = 0;
      let end = 0;
      let first = true;
      for await (const chunk of child.stdout) {
        lines += countNewlines(chunk);
        if (first && lines >= 1) {
          first = false;
          if (++started === agents) ready.resolve();
        }
        if (lines >= totalLines) {
          end = performance.now();
          break;
        }
      }
      await child.stdin.close().catch(() => {});
      await child.status;
      return end;
    });
    await withTimeout(ready.promise, 120_000, "the fakes to start");
    t0 = performance.now();
    const m0 = machineCpu();
    await barrier.release();
    const ends = await Promise.all(runs);
    return { ends, m0 };
  })();
  const seconds = (Math.max(...ends.ends) - t0) / 1000;
  return {
    seconds,
    linesPerS: (agents * measured.lines) / seconds,
    mbPerS: (agents * measured.bytes) / 1e6 / seconds,
    machineCores: busyCores(ends.m0, machineCpu()),
  };
}

/** (c) The Agent SDK iterating the same fake's stream, storing nothing. */
async function agentSdk(
  prompt: string,
  cwd: string,
  agents: number,
  barrier: Barrier,
  measured: { lines: number; bytes: number },
): Promise<Run & { messages: number }> {
  const ready = Promise.withResolvers<void>();
  let started = 0;
  let messages = 0;
  const runs = Array.from({ length: agents }, async () => {
    let end = 0;
    const q = query({
      prompt,
      options: {
        pathToClaudeCodeExecutable: FAKE_CLAUDE_BIN,
        cwd,
        env: fakeEnv(),
        model: "claude-sonnet-4-6",
        permissionMode: "bypassPermissions",
        allowDangerouslySkipPermissions: true,
      },
    });
    for await (const m of q) {
      messages++;
      if (m.type === "system" && m.subtype === "init") {
        if (++started === agents) ready.resolve();
      }
      if (m.type === "result") end = performance.now();
    }
    if (end === 0) throw new Error("Cannot run the Agent SDK baseline: no result message");
    return end;
  });
  const failed = Promise.all(runs).then(() => {}, (err) => ready.reject(err));
  await withTimeout(ready.promise, 120_000, "the Agent SDK runs to start");
  const m0 = machineCpu();
  const t0 = performance.now();
  await barrier.release();
  const ends = await Promise.all(runs);
  await failed;
  const seconds = (Math.max(...ends) - t0) / 1000;
  return {
    seconds,
    linesPerS: (agents * measured.lines) / seconds,
    mbPerS: (agents * measured.bytes) / 1e6 / seconds,
    machineCores: busyCores(m0, machineCpu()),
    messages,
  };
}

/** What differs from the captured transcript: per type, and the first differing row per agent. */
function diagnose(db: DatabaseSync, lengths: number[]): string {
  const types = db.prepare(
    "SELECT type, parse_error, count(*) AS n, sum(byte_length) AS b FROM messages GROUP BY 1, 2",
  ).all().map((r) => `${r.type}/${r.parse_error}: ${r.n} rows ${r.b} B`).join(", ");
  const rows = db.prepare(
    "SELECT agent_key, seq, byte_length, type, parse_error FROM messages ORDER BY agent_key, seq",
  );
  const bad: string[] = [];
  for (const r of rows.iterate()) {
    const want = lengths[(r.seq as number) - 1];
    const generated = (r.seq as number) > PREAMBLE_LINES && (r.seq as number) < lengths.length;
    const off = Math.abs((r.byte_length as number) - (want ?? 0));
    if (generated && (off > (want! < 300 ? 4 : 0) || r.type !== "assistant")) {
      const raw = db.prepare(
        "SELECT substr(raw, 1, 120) AS head FROM messages WHERE agent_key = ? AND seq = ?",
      )
        .get(r.agent_key as number, r.seq as number) as { head: Uint8Array };
      bad.push(
        `agent ${r.agent_key} seq ${r.seq}: ${r.byte_length} B (want ${want}) type ${r.type} parse_error ${r.parse_error} head ${
          JSON.stringify(new TextDecoder().decode(raw.head))
        }`,
      );
      if (bad.length >= 5) break;
    }
  }
  return `by type: ${types}; first differences: ${bad.join(" | ") || "none"}`;
}

/** The orchestrator: N agents through the server, to committed rows. */
async function daemonRun(
  dir: string,
  scenarioPath: string,
  agents: number,
  barrier: Barrier,
  expect: { rows: number; bytes: number; slack: number; lengths: number[] },
  measured: { lines: number; bytes: number },
): Promise<Run> {
  await using d = await startDaemon(dir, {
    HERO_ORCHESTRATOR_MAX_CONCURRENT: String(Math.max(agents, 8)),
  });
  const prompt = `FAKE_FILE:${scenarioPath}`;
  const created = await Promise.all(
    Array.from({ length: agents }, () => d.client.agent.create({ prompt, cwd: d.work })),
  );
  const ids = new Set(created.map((a) => a.id));
  await until("every agent running with its init and prompt lines committed", async () => {
    const page = await d.client.agent.list({ bucket: "running", limit: 500 });
    const failed = (await d.client.agent.list({ bucket: "completed", limit: 5 })).agents;
    if (failed.length > 0) {
      throw new Error(
        `Cannot run ingest: agent ${failed[0]!.id} ended ${failed[0]!.status}: ${
          failed[0]!.error_message
        }`,
      );
    }
    return page.agents.length === agents &&
      page.agents.every((a) => a.status === "running" && a.last_seq >= PREAMBLE_LINES);
  }, { timeoutMs: 120_000, intervalMs: 50 });
  const p0 = sampleProc(d.pid)!;
  const m0 = machineCpu();
  const t0 = performance.now();
  await barrier.release();
  await until(
    "every agent done",
    async () => (await d.client.agent.list({ bucket: "running", limit: 1 })).agents.length === 0,
    { timeoutMs: 600_000, intervalMs: 20 },
  );
  const t1 = performance.now();
  const p1 = sampleProc(d.pid)!;
  const m1 = machineCpu();
  const page = await d.client.agent.list({ limit: 500 });
  const bad = page.agents.filter((a) => ids.has(a.id) && a.status !== "awaiting_review");
  if (bad.length > 0) {
    throw new Error(
      `Cannot run ingest: ${bad.length} agents ended ${bad[0]!.status}: ${bad[0]!.error_message}`,
    );
  }
  await d.stop();
  const db = new DatabaseSync(d.dbPath, { readOnly: true });
  try {
    const all = db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number };
    // Generated lines only: init and result lines carry paths and timings of varying length.
    const row = db.prepare(
      "SELECT count(*) AS n, sum(byte_length) AS b FROM messages WHERE type = 'assistant'",
    ).get() as { n: number; b: number };
    if (all.n !== expect.rows || Math.abs(row.b - expect.bytes) > expect.slack) {
      throw new Error(
        `Cannot run ingest: stored ${all.n} rows / ${row.b} generated bytes, expected ${expect.rows} / ${expect.bytes}; ${
          diagnose(db, expect.lengths)
        }`,
      );
    }
  } finally {
    db.close();
  }
  const seconds = (t1 - t0) / 1000;
  return {
    seconds,
    linesPerS: (agents * measured.lines) / seconds,
    mbPerS: (agents * measured.bytes) / 1e6 / seconds,
    daemonCores: cpuShare(p0, p1),
    machineCores: busyCores(m0, m1),
  };
}

function med(runs: Run[], key: keyof Run): number {
  return median(runs.map((r) => r[key] as number));
}

function worst(runs: Run[], key: keyof Run): number {
  // For throughput the bad tail is the low end: the 1st percentile (the minimum for few runs).
  return -percentile(runs.map((r) => -(r[key] as number)), 99);
}

export async function runConfig(
  ctx: BenchContext,
  c: Config,
): Promise<{ figures: Figure[]; data: unknown }> {
  const dir = `${ctx.tmp}/ingest-${c.agents}`;
  await Deno.mkdir(`${dir}/work`, { recursive: true });
  const work = await Deno.realPath(`${dir}/work`);
  const barrierPath = `${dir}/barrier.lock`;
  const steps = transcriptSteps(c.linesPerAgent, 1);
  const scenarioPath = `${dir}/scenario.json`;
  await Deno.writeTextFile(
    scenarioPath,
    JSON.stringify({
      auto: true,
      steps: [{ spawnWait: `flock -s '${barrierPath}' true` }, ...steps],
    }),
  );
  const prompt = `FAKE_FILE:${scenarioPath}`;
  const asked = stepBytes(steps);
  // Everything one agent prints: the preamble, the lines, the result.
  const preamble = PREAMBLE_LINES;
  const totalLines = preamble + asked.lines + 1;
  ctx.log(`ingest ${c.agents}×${c.linesPerAgent}: capturing the transcript`);
  const bytes = await capture(prompt, work, totalLines);
  const lines = splitLines(bytes);
  if (lines.length !== totalLines) {
    throw new Error(`Cannot capture the transcript: ${lines.length} lines, expected ${totalLines}`);
  }
  const captureFile = `${dir}/capture.jsonl`;
  await Deno.writeFile(captureFile, bytes);
  // Measured = the lines after the barrier: the generated ones and the result line.
  let preambleBytes = 0;
  for (const l of lines.slice(0, preamble)) preambleBytes += l.byteLength + 1;
  const measured = { lines: asked.lines + 1, bytes: bytes.byteLength - preambleBytes };
  let generatedBytes = 0;
  for (const l of lines.slice(preamble, -1)) generatedBytes += l.byteLength;
  // Lines too short to pad (< ~300 B) carry the fake's pid (`msg_fake_<pid>_n`), so each agent's
  // are a few bytes longer or shorter than the capture's when its pid has more or fewer digits.
  const unpadded = lines.slice(preamble, -1).filter((l) => l.byteLength < 300).length;
  const expect = {
    rows: c.agents * totalLines,
    bytes: c.agents * generatedBytes,
    slack: c.agents * unpadded * 4,
    lengths: lines.map((l) => l.byteLength),
  };

  const runs = {
    daemon: [] as Run[],
    sqlite: [] as Run[],
    cat: [] as Run[],
    sdk: [] as Run[],
    fake: [] as Run[],
  };
  for (let rep = 0; rep < c.reps; rep++) {
    ctx.log(`ingest ${c.agents}×${c.linesPerAgent} rep ${rep + 1}/${c.reps}: daemon`);
    const repDir = `${dir}/rep${rep}`;
    runs.daemon.push(
      await daemonRun(
        repDir,
        scenarioPath,
        c.agents,
        await Barrier.hold(barrierPath),
        expect,
        measured,
      ),
    );
    await removeQuietly(repDir);
    ctx.log(`ingest ${c.agents}×${c.linesPerAgent} rep ${rep + 1}/${c.reps}: baselines`);
    await Deno.mkdir(repDir, { recursive: true });
    runs.sqlite.push(sqliteRaw(repDir, c.agents, lines.slice(PREAMBLE_LINES)));
    runs.cat.push(await catPipes(captureFile, c.agents, bytes.byteLength));
    runs.sdk.push(
      await agentSdk(prompt, work, c.agents, await Barrier.hold(barrierPath), measured),
    );
    runs.fake.push(
      await fakePipes(
        prompt,
        work,
        c.agents,
        await Barrier.hold(barrierPath),
        totalLines,
        measured,
      ),
    );
    await removeQuietly(repDir);
  }
  const n = c.agents;
  const label = `${n} agents × ${c.linesPerAgent.toLocaleString("en-US")} lines`;
  const dLines = med(runs.daemon, "linesPerS");
  const figures = [
    figure({
      id: `ingest.${n}.lines_vs_sqlite`,
      label: `${label}: lines/s to committed rows`,
      unit: "lines/s",
      value: dLines,
      baseline: { label: "(a) raw node:sqlite inserts", value: med(runs.sqlite, "linesPerS") },
      target: "≥ 0.5× (a)",
      check: (_v, r) => r !== null && r >= 0.5,
      detail: { worst: worst(runs.daemon, "linesPerS") },
    }),
    figure({
      id: `ingest.${n}.lines_vs_sdk`,
      label: `${label}: lines/s vs Agent SDK`,
      unit: "lines/s",
      value: dLines,
      baseline: { label: "(c) Agent SDK query(), not stored", value: med(runs.sdk, "linesPerS") },
      target: "≥ 1× (c)",
      check: (_v, r) => r !== null && r >= 1,
    }),
    figure({
      id: `ingest.${n}.mb_per_s`,
      label: `${label}: MB/s to committed rows`,
      unit: "MB/s",
      value: med(runs.daemon, "mbPerS"),
      baseline: { label: "(b) cat through pipes", value: med(runs.cat, "mbPerS") },
    }),
    figure({
      id: `ingest.${n}.mb_vs_producer`,
      label: `${label}: MB/s vs the fakes alone`,
      unit: "MB/s",
      value: med(runs.daemon, "mbPerS"),
      baseline: { label: "(d) fakes → pipes, discarded", value: med(runs.fake, "mbPerS") },
    }),
  ];
  return {
    figures,
    data: {
      config: c,
      transcript: {
        lines_per_agent: totalLines,
        bytes_per_agent: bytes.byteLength,
        mean_line_bytes: Math.round(bytes.byteLength / totalLines),
      },
      daemon_cores_median: med(runs.daemon, "daemonCores"),
      machine_cores_median: med(runs.daemon, "machineCores"),
      runs,
    },
  };
}

export const scenario: Scenario = {
  name: "ingest",
  title: "Ingest: N fake agents at full speed through the server to committed rows",
  async run(ctx) {
    const figures: Figure[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    for (const c of configs(ctx.mode)) {
      const r = await runConfig(ctx, c);
      figures.push(...r.figures);
      data[`agents_${c.agents}`] = r.data;
      const d = r.data as { daemon_cores_median: number; machine_cores_median: number };
      notes.push(
        `${c.agents} agents: daemon used ${d.daemon_cores_median.toFixed(2)} cores, the machine ${
          d.machine_cores_median.toFixed(2)
        } of ${navigator.hardwareConcurrency} (medians over runs)`,
      );
    }
    return { figures, notes, data };
  },
};
