/**
 * The watchdog: every 250 ms each live run is checked against the idle timeout, the maximum
 * runtime and the result-exit grace (a process that printed its result must exit soon after).
 * @module
 */
import type { EngineSettings } from "../config/mod.ts";
import type { AgentRun } from "./run.ts";
import type { SupervisorLog } from "./types.ts";

/** How often the runs are checked. */
const CHECK_EVERY_MS = 250;

export type WatchdogLimits = Pick<
  EngineSettings["supervisor"],
  "idleTimeoutMs" | "maxRuntimeMs" | "resultExitGraceMs"
>;

/** Checks each run once: stops the idle and the overdue, terminates one lingering after its result. */
export function checkRuns(
  runs: Iterable<AgentRun>,
  limits: WatchdogLimits,
  log: SupervisorLog,
  now: number = Date.now(),
): void {
  const { idleTimeoutMs, maxRuntimeMs, resultExitGraceMs } = limits;
  for (const run of runs) {
    const proc = run.proc;
    if (!proc || run.stopping) continue;
    if (run.resultAt !== null) {
      if (!run.lingering && now - run.resultAt >= resultExitGraceMs) {
        log("warn", "claude did not exit after its result; terminating it", {
          agent: run.agentId,
        });
        run.killLingering();
      }
      continue;
    }
    if (now - run.startedAt >= maxRuntimeMs) {
      run.requestStop({
        code: "max_runtime",
        message: `Stopped after the maximum runtime of ${maxRuntimeMs} ms`,
        status: "failed",
      });
    } else if (now - proc.lastOutputAt >= idleTimeoutMs) {
      run.requestStop({
        code: "idle_timeout",
        message: `Stopped after ${idleTimeoutMs} ms without output`,
        status: "failed",
      });
    }
  }
}

/** Starts checking `runs()` every 250 ms; returns the function that stops it. */
export function startWatchdog(
  runs: () => Iterable<AgentRun>,
  limits: WatchdogLimits,
  log: SupervisorLog,
): () => void {
  const timer = setInterval(() => checkRuns(runs(), limits, log), CHECK_EVERY_MS);
  return function stopWatchdog() {
    clearInterval(timer);
  };
}
