/**
 * `deno task bench`: the benchmark suite (scenarios in `bench/`). Prints a table (figure, same-run
 * baseline, ratio, target, met) and writes `bench/out/results-<timestamp>.json`.
 *
 * ```sh
 * deno task bench                 # full run, < 10 min on 2 cores
 * deno task bench --quick         # < 2 min
 * deno task bench --only spawn,scale --quick
 * deno task bench --only concurrency --soak      # 10-minute window, slope of its last 5 minutes
 * deno task bench --smoke --only ingest --out /tmp/r.json   # seconds; used by the tests
 * ```
 *
 * Exit 0 when every selected scenario ran or was reported as not run (a missed target is a
 * result, not a failure); 1 when a scenario failed; 2 on bad arguments.
 * @module
 */
import { parseArgs } from "node:util";
import { machineInfo } from "../bench/harness.ts";
import { renderTable, tableRows } from "../bench/table.ts";
import { type BenchMode, NotRunError, type Scenario, type ScenarioResult } from "../bench/types.ts";
import { scenario as ingest } from "../bench/ingest.ts";
import { scenario as spawn } from "../bench/spawn.ts";
import { scenario as fanout } from "../bench/fanout.ts";
import { scenario as scale } from "../bench/scale.ts";
import { scenario as concurrency } from "../bench/concurrency.ts";
import { scenario as realCli } from "../bench/real_cli.ts";
import { scenario as proxy } from "../bench/proxy.ts";
import { scenario as search } from "../bench/search.ts";
import { scenario as stall } from "../bench/stall.ts";
import { scenario as diff } from "../bench/diff.ts";
import { scenario as live } from "../bench/live.ts";

/** Every scenario, in the order. */
export const SCENARIOS: readonly Scenario[] = [
  ingest,
  spawn,
  fanout,
  scale,
  concurrency,
  realCli,
  proxy,
  search,
  stall,
  diff,
  live,
];

const REPO_ROOT = new URL("../", import.meta.url).pathname;
const OUT_DIR = `${REPO_ROOT}bench/out`;

const USAGE =
  `Usage: deno task bench [--quick | --smoke] [--only a,b] [--out FILE] [--cache DIR] [--keep]

  --quick      smaller runs (< 2 min on 2 cores)
  --smoke      tiny runs, seconds (tests: checks the machinery, not the figures)
  --only LIST  comma-separated scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}
  --out FILE   results file (default bench/out/results-<timestamp>.json)
  --cache DIR  generated fixtures kept between runs (default bench/out/cache)
  --soak       concurrency: a 10-minute window; the RSS slope is fitted to its last 5 minutes
  --keep       keep the scratch directories
  -h, --help   this help`;

async function gitRevision(): Promise<string | null> {
  try {
    const head = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    const dirty = await new Deno.Command("git", {
      args: ["status", "--porcelain", "--untracked-files=no"],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    const rev = new TextDecoder().decode(head.stdout).trim();
    return rev ? `${rev}${dirty.stdout.length > 0 ? "+dirty" : ""}` : null;
  } catch {
    return null;
  }
}

function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[bench ${t}] ${message}`);
}

async function runScenario(
  s: Scenario,
  mode: BenchMode,
  root: string,
  cacheDir: string,
  keep: boolean,
  soak: boolean,
): Promise<ScenarioResult> {
  const tmp = `${root}/${s.name}`;
  await Deno.mkdir(tmp, { recursive: true });
  const started = performance.now();
  log(`${s.name}: ${s.title}`);
  try {
    const outcome = await s.run({ mode, tmp, cacheDir, log, soak });
    return {
      name: s.name,
      title: s.title,
      status: "ok",
      duration_ms: Math.round(performance.now() - started),
      ...outcome,
    };
  } catch (err) {
    const notRun = err instanceof NotRunError;
    if (!notRun) log(`${s.name} failed: ${err instanceof Error ? err.stack : String(err)}`);
    return {
      name: s.name,
      title: s.title,
      status: notRun ? "not_run" : "error",
      reason: err instanceof Error ? err.message : String(err),
      duration_ms: Math.round(performance.now() - started),
      figures: [],
      notes: [],
    };
  } finally {
    if (!keep) await Deno.remove(tmp, { recursive: true }).catch(() => {});
    log(`${s.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: "boolean" },
        smoke: { type: "boolean" },
        only: { type: "string" },
        out: { type: "string" },
        cache: { type: "string" },
        keep: { type: "boolean" },
        soak: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.quick && values.smoke) {
    console.error(`error: --quick and --smoke exclude each other\n\n${USAGE}`);
    return 2;
  }
  const mode: BenchMode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  let selected = [...SCENARIOS];
  if (values.only) {
    const names = values.only.split(",").map((n) => n.trim()).filter(Boolean);
    const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
    if (unknown.length > 0) {
      console.error(`error: unknown scenario ${unknown.join(", ")}\n\n${USAGE}`);
      return 2;
    }
    selected = SCENARIOS.filter((s) => names.includes(s.name));
  }

  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const outFile = values.out ?? `${OUT_DIR}/results-${stamp}.json`;
  const root = await Deno.makeTempDir({ prefix: "hero_bench_" });
  const machine = await machineInfo();
  log(`mode ${mode}, ${selected.length} scenarios, ${machine.nproc} cores (${machine.cpu_model})`);
  const t0 = performance.now();
  const results: ScenarioResult[] = [];
  try {
    const cacheDir = values.cache ?? `${OUT_DIR}/cache`;
    for (const s of selected) {
      results.push(
        await runScenario(s, mode, root, cacheDir, values.keep ?? false, values.soak ?? false),
      );
    }
  } finally {
    if (!values.keep) await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  const durationS = (performance.now() - t0) / 1000;

  const report = {
    schema: "hero_orchestrator.bench/1",
    started_at: startedAt.toISOString(),
    duration_s: Math.round(durationS * 10) / 10,
    mode,
    ...(values.soak ? { soak: true } : {}),
    git: await gitRevision(),
    machine: { ...machine, loadavg_end: Deno.loadavg() },
    scenarios: results,
  };
  await Deno.mkdir(outFile.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  await Deno.writeTextFile(outFile, JSON.stringify(report, null, 2) + "\n");

  console.log(renderTable(tableRows(results)));
  for (const r of results) {
    for (const note of r.notes) console.log(`- ${r.name}: ${note}`);
  }
  console.log(
    `\n${mode} run, ${
      durationS.toFixed(0)
    } s on ${machine.nproc} × ${machine.cpu_model}; results: ${outFile}`,
  );
  return results.some((r) => r.status === "error") ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
