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
 * One process-table snapshot indexed for many ownership queries: stopping N agents then costs one
 * `ps` and one pass over the table per round, not N of each. `owned(q)` answers exactly what
 * {@linkcode ownedProcesses} answers for the same table.
 */
export class ProcessSnapshot {
  readonly table: ProcessInfo[];
  #byPid = new Map<number, ProcessInfo>();
  #byParent = new Map<number, ProcessInfo[]>();
  #byGroup = new Map<number, ProcessInfo[]>();
  /** Per variable: marker value → processes whose environment assigns exactly that value. */
  #byMarker = new Map<string, Map<string, ProcessInfo[]>>();

  constructor(table: ProcessInfo[]) {
    this.table = table;
    for (const p of table) {
      this.#byPid.set(p.pid, p);
      push(this.#byParent, p.ppid, p);
      push(this.#byGroup, p.pgid, p);
    }
  }

  /** The live processes `query` owns (see {@linkcode ownedProcesses}). */
  owned(query: OwnershipQuery): ProcessInfo[] {
    const exclude = query.excludePid;
    const owned = new Map<number, ProcessInfo>();
    for (const p of this.#markerIndex(query.markerVar).get(query.marker) ?? []) {
      if (p.pid !== exclude) owned.set(p.pid, p);
    }
    const root = query.rootPid ? this.#byPid.get(query.rootPid) : undefined;
    if (root && hasMarker(root, query.markerVar, query.marker)) {
      for (const p of this.#byGroup.get(root.pid) ?? []) {
        if (p.pid !== exclude) owned.set(p.pid, p);
      }
    }
    // Descendants of anything owned (covers children that cleared their environment).
    const stack = [...owned.values()];
    while (stack.length > 0) {
      const p = stack.pop()!;
      for (const child of this.#byParent.get(p.pid) ?? []) {
        if (child.pid === exclude || owned.has(child.pid)) continue;
        owned.set(child.pid, child);
        stack.push(child);
      }
    }
    return [...owned.values()].filter(isAlive);
  }

  /** Every ` VAR=value` assignment in each process's args and environment, by value. */
  #markerIndex(variable: string): Map<string, ProcessInfo[]> {
    let index = this.#byMarker.get(variable);
    if (index) return index;
    index = new Map();
    const needle = ` ${variable}=`;
    for (const p of this.table) {
      const text = p.argsAndEnv;
      const seen = new Set<string>();
      for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
        const start = at + needle.length;
        const space = text.indexOf(" ", start);
        const value = text.slice(start, space < 0 ? text.length : space);
        if (seen.has(value)) continue;
        seen.add(value);
        push(index, value, p);
      }
    }
    this.#byMarker.set(variable, index);
    return index;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The live processes an agent owns: the marker proves ownership without trusting a pid (a reused
 * pid or a foreign claude never carries our random marker); the parent chain and process group
 * catch descendants that scrubbed their environment while the root is still alive.
 */
export function ownedProcesses(table: ProcessInfo[], query: OwnershipQuery): ProcessInfo[] {
  return new ProcessSnapshot(table).owned(query);
}
