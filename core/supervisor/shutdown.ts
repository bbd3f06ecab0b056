/**
 * Shutdown at scale: many runs stopped for about the cost of one (one grace period, one process
 * table snapshot and one `kill` per round for all of them), and their terminal rows committed in
 * shared transactions instead of one fsync each.
 * @module
 */
import type { Agent } from "../models/mod.ts";
import type { Store } from "../store/mod.ts";
import { AGENT_MARKER_VAR } from "../claude/mod.ts";
import { type ProcessControl, terminateTrees } from "./process_control.ts";
import type { AgentRun } from "./run.ts";
import type { SupervisorLog } from "./types.ts";

/** During shutdown, terminal rows of runs ending within this window share one transaction. */
export const FINISH_BATCH_MS = 25;

/**
 * Stops many runs together: stdin closed, then SIGTERM + SIGCONT for all at once, one shared
 * grace period, SIGKILL for what is left, with ONE process-table snapshot and one `kill` per round
 * for all of them (`terminateTrees`). Ownership per run is the usual one (its marker, or descent
 * from its live root). Each run's stop settles as soon as its own tree is empty.
 */
export function stopTogether(
  runs: AgentRun[],
  options: { control: ProcessControl; graceMs: number; log: SupervisorLog },
): void {
  if (runs.length === 0) return;
  const settled = runs.map(() => Promise.withResolvers<void>());
  const exited = runs.map(() => false);
  runs.forEach((run, i) => {
    run.stopWith(settled[i]!.promise);
    const mark = () => (exited[i] = true);
    run.proc!.status.then(mark, mark);
  });
  (async () => {
    // stdin first (a CLI may end cleanly on EOF), but a stuck pipe must not hold up the signals.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(runs.map((run) => run.proc!.closeStdin())),
      new Promise((r) => (timer = setTimeout(r, 250))),
    ]).finally(() => clearTimeout(timer));
    await terminateTrees({
      control: options.control,
      graceMs: options.graceMs,
      targets: runs.map((run, i) => {
        const proc = run.proc!;
        return {
          query: {
            marker: run.marker,
            markerVar: AGENT_MARKER_VAR,
            rootPid: proc.pid,
            excludePid: Deno.pid,
          },
          signalRoot: (signal: Deno.Signal) => proc.signal(signal),
          sandboxed: proc.sandboxed,
          rootExited: () => exited[i]!,
          onSettled: (report) => {
            if (report.survivors > 0) {
              options.log("error", "processes survived SIGKILL", {
                agent: run.agentId,
                survivors: report.survivors,
              });
            } else {
              run.markTreeSettled();
            }
            settled[i]!.resolve();
          },
        };
      }),
    });
  })().catch((err) => {
    // ps or kill failed: every run still gets its own exit-time sweep (its tree is not settled).
    options.log("error", "Cannot stop the agents together", { error: String(err) });
    for (const s of settled) s.resolve();
  });
}

/**
 * Shutdown's stop: every run gets the `daemon_shutdown` stop (a cancel under way keeps its own),
 * those with a process are stopped together, and this resolves once every run is over. A run
 * still spawning stops itself once its process exists (it checks its stop).
 */
export async function stopForShutdown(
  runs: AgentRun[],
  options: { control: ProcessControl; graceMs: number; log: SupervisorLog },
): Promise<void> {
  const together: AgentRun[] = [];
  for (const run of runs) {
    run.markStop({
      code: "daemon_shutdown",
      message: "The daemon was shut down while this agent was running",
      status: "failed",
    });
    if (run.proc && !run.stopping) together.push(run);
  }
  stopTogether(together, options);
  await Promise.all(runs.map((r) => r.done));
}

interface PendingFinish {
  write: () => Agent | null;
  agentId: string;
  written: () => void;
}

/**
 * Shutdown: a run's terminal row joins the next shared transaction (all runs ending together
 * commit once); the store's outbox publishes the rows after that COMMIT.
 */
export class FinishBatch {
  #store: Store;
  #log: SupervisorLog;
  #live: () => number;
  #queue: PendingFinish[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `live()`: how many runs are still live (once all wait for their row, none is waited for). */
  constructor(options: { store: Store; log: SupervisorLog; live: () => number }) {
    this.#store = options.store;
    this.#log = options.log;
    this.#live = options.live;
  }

  /** Queues a run's final row; resolves once it is committed. */
  add(agentId: string, write: () => Agent | null): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#queue.push({ write, agentId, written: resolve });
    if (this.#queue.length >= this.#live()) {
      // Every live run is waiting for its row: no reason to wait for stragglers.
      clearTimeout(this.#timer);
      this.#flush();
    } else {
      this.#timer ??= setTimeout(() => this.#flush(), FINISH_BATCH_MS);
    }
    return promise;
  }

  #flush(): void {
    this.#timer = undefined;
    const batch = this.#queue.splice(0);
    if (batch.length === 0) return;
    try {
      this.#store.write(() => batch.map((item) => item.write()));
    } catch {
      // Rolled back as a whole: write them one by one so one bad row cannot hold up the others.
      for (const item of batch) {
        try {
          item.write();
        } catch (err) {
          this.#log("error", "Cannot record the end of an agent run", {
            agent: item.agentId,
            error: String(err),
          });
        }
      }
    }
    for (const item of batch) item.written();
  }
}
