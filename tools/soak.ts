/**
 * `deno task soak`: the reliability tests at their targets' full figures (docs/reliability.md).
 * Each entry is a test of the normal suite; with `HERO_SOAK=full` (or `short`) it runs at the
 * target's size (`soakFigure()` in `core/testing/soak.ts`): 1,000 kill -9 rounds instead of 10,
 * 10 minutes of ingest instead of 10 s. One test file at a time, never in CI.
 *
 * ```sh
 * deno task soak                  # full figures: about 2 h on 2 cores
 * deno task soak --short          # a tenth of each figure (at least the CI size): ~15 min
 * deno task soak --only T4,T18    # some targets
 * deno task soak --list
 * ```
 *
 * Prints one row per entry (targets, mode, result, minutes) and writes
 * `bench/out/soak-<timestamp>.json`. Exit 0 when every entry passed, 1 otherwise, 2 on bad
 * arguments.
 * @module
 */
import { parseArgs } from "node:util";

/** One soak entry: a test (file and optional name filter) and the targets it brings to figure. */
export interface SoakEntry {
  targets: string[];
  file: string;
  filter?: string;
  /** What the full run does, for the table. */
  figure: string;
}

/** Every soak entry, in target order. */
export const SOAK: readonly SoakEntry[] = [
  {
    targets: ["T1", "T7", "T40"],
    file: "server/reaping_test.ts",
    figure: "1,000 start/stop cycles (production daemon), 0 zombies, 0 descendants, fds ± 5",
  },
  {
    targets: ["T4"],
    file: "core/supervisor/crash_recovery_test.ts",
    filter: "kill -9 of the daemon",
    figure: "20 kill -9 of a daemon with 50 streaming agents",
  },
  {
    targets: ["T6"],
    file: "server/double_start_test.ts",
    figure: "100 rounds of two follow-ups 10 ms apart",
  },
  {
    targets: ["T4", "T8"],
    file: "server/restart_storm_test.ts",
    figure: "20 kill -9 of the production daemon; agents crash at spawn or stream",
  },
  {
    targets: ["T10"],
    file: "server/liveness_test.ts",
    figure: "failed within 2 s after a 3 s write lock",
  },
  {
    targets: ["T12"],
    file: "server/capacity_test.ts",
    figure: "200 agents requested, limit 50; creates ≤ 100 ms, fds ≤ 600, RSS ≤ 256 MiB",
  },
  {
    targets: ["T15"],
    file: "core/claude/line_stream_test.ts",
    filter: "fuzzed",
    figure: "10⁵ fuzzed inputs and chunkings",
  },
  {
    targets: ["T16"],
    file: "core/supervisor/supervisor_test.ts",
    filter: "50 agents",
    figure: "50 agents × 100,000 lines = 5,000,000 rows",
  },
  {
    targets: ["T18"],
    file: "core/store/crash_test.ts",
    figure: "1,000 SIGKILLs of the writer",
  },
  {
    targets: ["T19"],
    file: "server/storage_power_loss_test.ts",
    figure:
      "20 power losses (SIGKILL, unsynced writes undone) of the production daemon under ingest",
  },
  {
    targets: ["T23"],
    file: "server/storage_write_fault_test.ts",
    figure: "the N-th database write fails (EIO/ENOSPC) for every N of 1…500 (production daemon)",
  },
  {
    targets: ["T25"],
    file: "server/reconcile_scale_test.ts",
    figure: "10,000 rows in mixed states, 20 starts; reconciled once, ≤ 2 s",
  },
  {
    targets: ["T20", "T21"],
    file: "server/sustained_ingest_test.ts",
    figure: "50 agents, 10,000 lines/s of 436 B, 10 min; lag p99 ≤ 1 s; WAL ≤ 4 MiB in 5 s",
  },
  {
    targets: ["T22"],
    file: "server/lock_contention_test.ts",
    figure:
      "100 RPC writes/s + get→cancel beside 10 agents × 200 lines/s, 1 h; 0 busy; p99 ≤ 50 ms",
  },
];

const REPO_ROOT = new URL("../", import.meta.url).pathname;

const USAGE = `Usage: deno task soak [--short] [--only T1,T2] [--list]

  --short      a tenth of each figure (never less than the CI size)
  --only LIST  entries covering any of these targets
  --list       print the entries and exit
  -h, --help   this help`;

interface EntryResult {
  targets: string[];
  file: string;
  filter: string | null;
  mode: string;
  passed: boolean;
  seconds: number;
  /** Lines the tests printed about their figures (`T<n>: …`). */
  figures: string[];
}

async function runEntry(entry: SoakEntry, mode: string): Promise<EntryResult> {
  const args = ["test", "-A", entry.file, ...(entry.filter ? ["--filter", entry.filter] : [])];
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    env: {
      HERO_SOAK: mode,
      NO_COLOR: "1",
      PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const figures: string[] = [];
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail += decoder.decode(chunk, { stream: true });
    const lines = tail.split("\n");
    tail = lines.pop()!;
    figures.push(...lines.filter((l) => /^T\d+(\/T\d+)*: /.test(l)));
  }
  const status = await child.status;
  return {
    targets: entry.targets,
    file: entry.file,
    filter: entry.filter ?? null,
    mode,
    passed: status.success,
    seconds: Math.round((performance.now() - started) / 1000),
    figures,
  };
}

async function gitRevision(): Promise<string | null> {
  const out = await new Deno.Command("git", {
    args: ["rev-parse", "--short", "HEAD"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  return out?.success ? new TextDecoder().decode(out.stdout).trim() : null;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        short: { type: "boolean", default: false },
        only: { type: "string" },
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only?.split(",").map((t) => t.trim().toUpperCase()).filter(Boolean);
  const known = new Set(SOAK.flatMap((e) => e.targets));
  const unknown = (only ?? []).filter((t) => !known.has(t));
  if (unknown.length > 0) {
    console.error(`Cannot select ${unknown.join(", ")}: no soak entry covers it\n${USAGE}`);
    return 2;
  }
  const entries = only ? SOAK.filter((e) => e.targets.some((t) => only.includes(t))) : SOAK;
  if (values.list) {
    for (const e of entries) {
      console.log(`${e.targets.join(",").padEnd(12)} ${e.file}  ${e.figure}`);
    }
    return 0;
  }
  const mode = values.short ? "short" : "full";
  const started = new Date();
  const results: EntryResult[] = [];
  for (const entry of entries) {
    console.log(`\n== soak ${entry.targets.join(", ")} (${mode}): ${entry.figure}`);
    results.push(await runEntry(entry, mode));
  }
  console.log("\ntargets       result  min  test");
  for (const r of results) {
    console.log(
      `${r.targets.join(",").padEnd(13)} ${(r.passed ? "pass" : "FAIL").padEnd(6)} ${
        String(Math.round(r.seconds / 60)).padStart(4)
      }  ${r.file}${r.filter ? ` --filter "${r.filter}"` : ""}`,
    );
    for (const f of r.figures) console.log(`${" ".repeat(25)}${f}`);
  }
  const failed = results.filter((r) => !r.passed).length;
  const out = `${REPO_ROOT}bench/out/soak-${started.toISOString().replace(/[:.]/g, "-")}.json`;
  await Deno.mkdir(`${REPO_ROOT}bench/out`, { recursive: true });
  await Deno.writeTextFile(
    out,
    JSON.stringify(
      {
        started: started.toISOString(),
        finished: new Date().toISOString(),
        revision: await gitRevision(),
        mode,
        results,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\n${results.length - failed} passed, ${failed} failed (${mode}); wrote ${out}`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
