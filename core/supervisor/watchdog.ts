/**
 * The watchdog: every 250 ms each live run is checked against the idle timeout, the maximum
 * runtime (per turn), the session idle period (a live process waiting for a prompt has its stdin
 * closed after it) and the result-exit grace (a process whose stdin was closed after its last
 * result must exit soon after). A live session waiting for a prompt is never "lingering".
 * @module
 */
import type { EngineSettings } from "../config/mod.ts";
import type { AgentRun } from "./run.ts";
import type { SupervisorLog } from "./types.ts";

/** How often the runs are checked. */
const CHECK_EVERY_MS = 250;

export type WatchdogLimits = Pick<
  EngineSettings["supervisor"],
  "idleTimeoutMs" | "maxRuntimeMs" | "resultExitGraceMs" | "sessionIdleMs"
>;

/** Checks each run once: stops the idle and the overdue, terminates one lingering after its result. */
export function checkRuns(
  runs: Iterable<AgentRun>,
  limits: WatchdogLimits,
  log: SupervisorLog,
  now: number = Date.now(),
): void {
  const { idleTimeoutMs, maxRuntimeMs, resultExitGraceMs, sessionIdleMs } = limits;
  for (const run of runs) {
    const proc = run.proc;
    if (!proc || run.stopping) continue;
    const exitDue = run.session.exitDueSince;
    if (exitDue !== null) {
      if (!run.lingering && now - exitDue >= resultExitGraceMs) {
        log("warn", "claude did not exit after its result; terminating it", {
          agent: run.agentId,
        });
        run.killLingering();
      }
      continue;
    }
    const idleSince = run.session.idleSince;
    if (idleSince !== null) {
      if (now - idleSince >= sessionIdleMs) {
        log("info", "live session idle; closing it", { agent: run.agentId });
        run.session.endSession();
      }
      continue;
    }
    // A turn waiting for a person's answer is not idle (the approval has its own timeout).
    if (run.approvals.size > 0 && now - run.session.turnStartedAt < maxRuntimeMs) continue;
    if (now - run.session.turnStartedAt >= maxRuntimeMs) {
      run.requestStop({
        code: "max_runtime",
        message: `Stopped after the maximum runtime of ${maxRuntimeMs} ms`,
        status: "failed",
      });
    } else if (now - Math.max(proc.lastOutputAt, run.session.turnStartedAt) >= idleTimeoutMs) {
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
