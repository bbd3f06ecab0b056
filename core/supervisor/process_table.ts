/**
 * Reads the process table through `ps`, the only way under narrow permissions: Deno refuses
 * `/proc` reads without --allow-all (reliability_targets.md finding 3).
 */

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** `ps` state letters; a leading Z is a zombie (exited, not yet reaped). */
  stat: string;
  /** The command line followed by the exec-time environment (`ps e`). */
  argsAndEnv: string;
}

const LINE = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/;

export function parsePsOutput(text: string): ProcessInfo[] {
  const result: ProcessInfo[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    result.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      pgid: Number(m[3]),
      sid: Number(m[4]),
      stat: m[5]!,
      argsAndEnv: m[6] ?? "",
    });
  }
  return result;
}

/** A snapshot of every process of this user, with environments. */
export async function listProcesses(psBin = "ps"): Promise<ProcessInfo[]> {
  const out = await new Deno.Command(psBin, {
    args: ["-eww", "-o", "pid=,ppid=,pgid=,sid=,stat=,args=", "e"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { LC_ALL: "C" },
  }).output();
  return parsePsOutput(new TextDecoder().decode(out.stdout));
}

export function isAlive(p: ProcessInfo): boolean {
  return !p.stat.startsWith("Z");
}

/** Whether the process's exec-time environment carries exactly this marker assignment. */
export function hasMarker(p: ProcessInfo, variable: string, marker: string): boolean {
  const needle = ` ${variable}=${marker}`;
  let from = 0;
  for (;;) {
    const at = p.argsAndEnv.indexOf(needle, from);
    if (at < 0) return false;
    const end = at + needle.length;
    if (end === p.argsAndEnv.length || p.argsAndEnv[end] === " ") return true;
    from = at + 1;
  }
}

export interface OwnershipQuery {
  /** Processes carrying this marker in their environment are ours. */
  marker: string;
  markerVar: string;
  /** While our direct child is alive we also own its descendants by parent chain and its group. */
  rootPid?: number | null;
  /** Never reported (the daemon itself). */
  excludePid?: number;
}

/**
 * The live processes an agent owns: the marker proves ownership without trusting a pid (a reused
 * pid or a foreign claude never carries our random marker); the parent chain and process group
 * catch descendants that scrubbed their environment while the root is still alive.
 */
export function ownedProcesses(table: ProcessInfo[], query: OwnershipQuery): ProcessInfo[] {
  const owned = new Map<number, ProcessInfo>();
  const byParent = new Map<number, ProcessInfo[]>();
  for (const p of table) {
    if (p.pid === query.excludePid) continue;
    const siblings = byParent.get(p.ppid) ?? [];
    siblings.push(p);
    byParent.set(p.ppid, siblings);
    if (hasMarker(p, query.markerVar, query.marker)) owned.set(p.pid, p);
  }
  const root = query.rootPid ? table.find((p) => p.pid === query.rootPid) : undefined;
  if (root && hasMarker(root, query.markerVar, query.marker)) {
    for (const p of table) {
      if (p.pgid === root.pid && p.pid !== query.excludePid) owned.set(p.pid, p);
    }
  }
  // Descendants of anything owned (covers children that cleared their environment).
  const stack = [...owned.values()];
  while (stack.length > 0) {
    const p = stack.pop()!;
    for (const child of byParent.get(p.pid) ?? []) {
      if (child.pid === query.excludePid || owned.has(child.pid)) continue;
      owned.set(child.pid, child);
      stack.push(child);
    }
  }
  return [...owned.values()].filter(isAlive);
}
