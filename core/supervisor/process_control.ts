import {
  listProcesses,
  ownedProcesses,
  type OwnershipQuery,
  type ProcessInfo,
} from "./process_table.ts";

export type KillSignal = "TERM" | "KILL" | "CONT";

/** The two programs the supervisor needs to see and stop process trees under narrow permissions. */
export interface ProcessControl {
  list(): Promise<ProcessInfo[]>;
  /** Sends a signal to pids and to whole process groups. Already-gone targets are ignored. */
  signal(signal: KillSignal, targets: { pids?: number[]; groups?: number[] }): Promise<void>;
}

export function createProcessControl(
  options: { psBin?: string; killBin?: string } = {},
): ProcessControl {
  const killBin = options.killBin ?? "kill";
  return {
    list: () => listProcesses(options.psBin),
    async signal(signal, targets) {
      // `Deno.kill` on a foreign pid needs unscoped --allow-run; the kill program needs only its name.
      const ids = [
        ...(targets.pids ?? []).filter((p) => p > 1).map(String),
        ...(targets.groups ?? []).filter((g) => g > 1).map((g) => `-${g}`),
      ];
      if (ids.length === 0) return;
      await new Deno.Command(killBin, {
        args: ["-s", signal, "--", ...ids],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
    },
  };
}

export interface TerminateOptions {
  control: ProcessControl;
  query: OwnershipQuery;
  graceMs: number;
  pollMs?: number;
  /** Signals the root directly (own child handle); falls back to the kill program. */
  signalRoot?: (signal: Deno.Signal) => boolean;
  /** With a live root, only the root gets SIGTERM (claude then stops its own tools); otherwise all. */
  termAll?: boolean;
  /** Upper bound on the whole procedure after SIGKILL, in case something is unkillable. */
  killTimeoutMs?: number;
  now?: () => number;
}

export interface TerminateReport {
  /** Processes found when termination began. */
  found: number;
  /** Processes still alive at the grace deadline (SIGKILLed). */
  sigkilled: number;
  /** Processes left when we gave up (0 on success). */
  survivors: number;
  elapsedMs: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Stops everything an agent owns: SIGTERM (to claude, which cleans up its tools), SIGCONT so a
 * stopped process can act on it, then SIGKILL to every owned process after the grace period.
 * Resolves only when no owned process is left alive (or killTimeoutMs after SIGKILL passed).
 */
export async function terminateTree(options: TerminateOptions): Promise<TerminateReport> {
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 50;
  const started = now();
  const { control, query } = options;
  let owned = ownedProcesses(await control.list(), query);
  const found = owned.length;
  const rootAlive = query.rootPid != null && owned.some((p) => p.pid === query.rootPid);
  if (rootAlive && !options.termAll) {
    const root = query.rootPid!;
    if (!options.signalRoot?.("SIGTERM")) await control.signal("TERM", { pids: [root] });
  } else if (owned.length > 0) {
    await control.signal("TERM", { pids: owned.map((p) => p.pid) });
  }
  if (owned.length > 0) {
    await control.signal("CONT", {
      pids: owned.map((p) => p.pid),
      groups: rootAlive ? [query.rootPid!] : [],
    });
  }
  const deadline = started + options.graceMs;
  while (owned.length > 0 && now() < deadline) {
    await sleep(Math.min(pollMs, Math.max(1, deadline - now())));
    owned = ownedProcesses(await control.list(), query);
  }
  let sigkilled = 0;
  if (owned.length > 0) {
    sigkilled = owned.length;
    const killDeadline = now() + (options.killTimeoutMs ?? 5_000);
    while (owned.length > 0 && now() < killDeadline) {
      const groups = [...new Set(owned.map((p) => p.pgid))].filter((g) =>
        owned.some((p) => p.pid === g)
      );
      await control.signal("KILL", { pids: owned.map((p) => p.pid), groups });
      await sleep(pollMs);
      owned = ownedProcesses(await control.list(), query);
    }
  }
  return { found, sigkilled, survivors: owned.length, elapsedMs: now() - started };
}
