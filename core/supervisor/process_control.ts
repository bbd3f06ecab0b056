import {
  listProcesses,
  type OwnershipQuery,
  type ProcessInfo,
  ProcessSnapshot,
} from "./process_table.ts";

export type KillSignal = "TERM" | "KILL" | "CONT";

/** The two programs the supervisor needs to see and stop process trees under narrow permissions. */
export interface ProcessControl {
  list(): Promise<ProcessInfo[]>;
  /** Sends a signal to pids and to whole process groups. Already-gone targets are ignored. */
  signal(signal: KillSignal, targets: { pids?: number[]; groups?: number[] }): Promise<void>;
}

/** Targets per `kill` invocation (argv stays far below ARG_MAX however many agents stop). */
const KILL_BATCH = 1_000;

/**
 * Shares process-table snapshots between concurrent callers, without handing anyone a stale one:
 * a caller gets a snapshot that STARTED after its call. While one runs, everyone who asks waits for
 * the next, which they then share. So at most one `ps` runs at a time however many agents end at
 * once (each ending agent sweeps its tree), instead of one `ps` per agent reading every
 * process's environment at the same moment: that stalled the event loop of busy daemons.
 */
export function coalesceSnapshots<T>(take: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let next: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const snapshot = take().finally(() => {
      if (running === snapshot) running = null;
    });
    running = snapshot;
    return snapshot;
  };
  return () => {
    if (running === null) return start();
    next ??= running.then(() => {}, () => {}).then(() => {
      next = null;
      return start();
    });
    return next;
  };
}

export function createProcessControl(
  options: { psBin?: string; killBin?: string } = {},
): ProcessControl {
  const killBin = options.killBin ?? "kill";
  return {
    list: coalesceSnapshots(() => listProcesses(options.psBin)),
    async signal(signal, targets) {
      // `Deno.kill` on a foreign pid needs unscoped --allow-run; the kill program needs only its name.
      // One program run for many targets: `kill` goes on past the ones already gone.
      const ids = [
        ...new Set(targets.pids ?? []).values().filter((p) => p > 1).map(String),
        ...new Set(targets.groups ?? []).values().filter((g) => g > 1).map((g) => `-${g}`),
      ];
      for (let i = 0; i < ids.length; i += KILL_BATCH) {
        await new Deno.Command(killBin, {
          args: ["-s", signal, "--", ...ids.slice(i, i + KILL_BATCH)],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).output();
      }
    },
  };
}

export interface TerminateOptions extends TerminateTarget {
  control: ProcessControl;
  graceMs: number;
  pollMs?: number;
  /** Upper bound on the whole procedure after SIGKILL, in case something is unkillable. */
  killTimeoutMs?: number;
  now?: () => number;
}

/** One process tree to stop (an agent's): whom it owns and how to reach its root. */
export interface TerminateTarget {
  query: OwnershipQuery;
  /** Signals the root directly (own child handle); falls back to the kill program. */
  signalRoot?: (signal: Deno.Signal) => boolean;
  /** With a live root, only the root gets SIGTERM (claude then stops its own tools); otherwise all. */
  termAll?: boolean;
  /**
   * The root is a bwrap sandbox: the root (outer bwrap) → the namespace init (inner bwrap) →
   * claude. The polite SIGTERM goes to claude, the init's child: SIGTERM to the outer bwrap
   * would kill the whole namespace at once, and the init ignores it. SIGKILL to the root still
   * ends everything inside (the init dies with it, and the kernel kills the namespace).
   */
  sandboxed?: boolean;
  /**
   * With a child handle: whether the root has exited (been reaped). Until then the tree is not
   * settled even when no owned process is visible (between fork and exec a child still shows the
   * parent's environment, so no marker), and the root is signalled through `signalRoot`.
   */
  rootExited?: () => boolean;
  /**
   * Called as soon as this tree is settled (nothing owned left, or given up after SIGKILL), while
   * other trees of the same call may still be waiting. A throwing callback is ignored.
   */
  onSettled?: (report: TerminateReport) => void;
}

export interface TerminateManyOptions {
  control: ProcessControl;
  targets: TerminateTarget[];
  /** SIGTERM → SIGKILL grace, one for all trees, counted from the call (the first snapshot is in it). */
  graceMs: number;
  pollMs?: number;
  /** Upper bound on the SIGKILL rounds, in case something is unkillable. */
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

/** In a bwrap tree rooted at `rootPid`: the children of the namespace init (claude). */
function sandboxedCommands(owned: ProcessInfo[], rootPid: number): number[] {
  const init = new Set(owned.filter((p) => p.ppid === rootPid).map((p) => p.pid));
  return owned.filter((p) => init.has(p.ppid)).map((p) => p.pid);
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
  const [report] = await terminateTrees({ ...options, targets: [options] });
  return report!;
}

interface TreeState {
  target: TerminateTarget;
  owned: ProcessInfo[];
  found: number;
  sigkilled: number;
  /** Every owned process got SIGTERM (no live root to leave the tools to). */
  termedAll: boolean;
  report: TerminateReport | null;
}

/**
 * {@linkcode terminateTree} for many trees at once, at the cost of about one of them: every round
 * takes ONE process-table snapshot for all trees and sends each signal with one `kill` run. All
 * trees get SIGTERM + SIGCONT together, share one grace period, and whatever is left at its end
 * is SIGKILLed together. Ownership is decided per tree exactly as in `terminateTree` (its marker,
 * or descent from its live root). Resolves with one report per target, in order, once every tree
 * is settled; `onSettled` reports each tree as soon as it is.
 */
export async function terminateTrees(options: TerminateManyOptions): Promise<TerminateReport[]> {
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 50;
  const started = now();
  const { control } = options;
  const trees: TreeState[] = options.targets.map((target) => ({
    target,
    owned: [],
    found: 0,
    sigkilled: 0,
    termedAll: false,
    report: null,
  }));
  const settle = (tree: TreeState) => {
    tree.report = {
      found: tree.found,
      sigkilled: tree.sigkilled,
      // A root we could not see but that has not exited counts as one survivor.
      survivors: tree.owned.length || (tree.target.rootExited?.() === false ? 1 : 0),
      elapsedMs: now() - started,
    };
    try {
      tree.target.onSettled?.(tree.report);
    } catch {
      // A reporting hook must not stop the other trees from being terminated.
    }
  };
  const empty = (tree: TreeState) =>
    tree.owned.length === 0 && tree.target.rootExited?.() !== false;
  const look = async (pending: TreeState[]): Promise<TreeState[]> => {
    const snapshot = new ProcessSnapshot(await control.list());
    for (const tree of pending) tree.owned = snapshot.owned(tree.target.query);
    const left: TreeState[] = [];
    for (const tree of pending) {
      if (empty(tree)) settle(tree);
      else left.push(tree);
    }
    return left;
  };

  const snapshot = new ProcessSnapshot(await control.list());
  const term: number[] = [];
  const cont: number[] = [];
  const contGroups: number[] = [];
  for (const tree of trees) {
    const { query } = tree.target;
    tree.owned = snapshot.owned(query);
    tree.found = tree.owned.length;
    const rootAlive = query.rootPid != null && tree.owned.some((p) => p.pid === query.rootPid);
    const inner = rootAlive && tree.target.sandboxed
      ? sandboxedCommands(tree.owned, query.rootPid!)
      : [];
    if (rootAlive && !tree.target.termAll && inner.length > 0) {
      term.push(...inner);
    } else if (rootAlive && !tree.target.termAll) {
      if (!tree.target.signalRoot?.("SIGTERM")) term.push(query.rootPid!);
    } else {
      tree.termedAll = true;
      term.push(...tree.owned.map((p) => p.pid));
      // Our own child not (yet) showing the marker: only its handle may reach it.
      if (!rootAlive && tree.target.rootExited?.() === false) tree.target.signalRoot?.("SIGTERM");
    }
    cont.push(...tree.owned.map((p) => p.pid));
    if (rootAlive) contGroups.push(query.rootPid!);
  }
  if (term.length > 0) await control.signal("TERM", { pids: term });
  if (cont.length > 0) await control.signal("CONT", { pids: cont, groups: contGroups });
  const deadline = started + options.graceMs;
  let pending: TreeState[] = [];
  for (const tree of trees) {
    if (empty(tree)) settle(tree);
    else pending.push(tree);
  }
  while (pending.length > 0 && now() < deadline) {
    await sleep(Math.min(pollMs, Math.max(1, deadline - now())));
    pending = await look(pending);
    // A root that exited left its tools to us: they get their SIGTERM now, not a SIGKILL later.
    const orphans: number[] = [];
    for (const tree of pending) {
      const rootPid = tree.target.query.rootPid;
      if (tree.termedAll || tree.owned.some((p) => p.pid === rootPid)) continue;
      tree.termedAll = true;
      orphans.push(...tree.owned.map((p) => p.pid));
    }
    if (orphans.length > 0) {
      await control.signal("TERM", { pids: orphans });
      await control.signal("CONT", { pids: orphans });
    }
  }
  if (pending.length > 0) {
    for (const tree of pending) tree.sigkilled = tree.owned.length;
    const killDeadline = now() + (options.killTimeoutMs ?? 5_000);
    while (pending.length > 0 && now() < killDeadline) {
      const pids: number[] = [];
      const groups: number[] = [];
      for (const tree of pending) {
        const owned = new Set(tree.owned.map((p) => p.pid));
        pids.push(...owned);
        // A whole group only when its leader is one of ours.
        for (const p of tree.owned) if (owned.has(p.pgid)) groups.push(p.pgid);
        if (tree.target.rootExited?.() === false) tree.target.signalRoot?.("SIGKILL");
      }
      await control.signal("KILL", { pids, groups });
      await sleep(pollMs);
      pending = await look(pending);
    }
    for (const tree of pending) settle(tree);
  }
  return trees.map((tree) => tree.report!);
}
