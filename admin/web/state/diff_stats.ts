/**
 * The size of an agent's changes for its dashboard card (files, +/−), from `agent.diff` without
 * patches, and the early warning when two live agents of one repository change the same file.
 * Read for agents in review once per turn, and for running agents at most every 15 s while they
 * work (their diffs move); agents that did not start in git have none.
 * @module
 */
import { computed, type ReadonlySignal, type Signal, signal } from "@preact/signals";
import type { Agent } from "@hero/sdk";
import { call } from "./rpc.ts";

export interface DiffStat {
  files: number;
  additions: number;
  deletions: number;
  /** The repository's main work tree, and the changed paths (for the overlap warning). */
  repo: string;
  paths: string[];
}

/** How often a running agent's diff is read again (it changes while the agent works). */
const RUNNING_REFRESH_MS = 15_000;

const stats = new Map<string, { key: string; value: Signal<DiffStat | null> }>();
/** Bumped when any stat changes: the overlap warnings depend on all of them. */
const version = signal(0);

function keyOf(agent: Agent): string | null {
  if (agent.kind === "shadow") return null;
  if (agent.status === "awaiting_review") return `review|${agent.turn_count}|${agent.updated_at}`;
  if (agent.status === "running") {
    return `run|${agent.turn_count}|${Math.floor(agent.updated_at / RUNNING_REFRESH_MS)}`;
  }
  return null;
}

/** The agent's diff stat (null until known, or when it has none); loads it when due. */
export function diffStatOf(agent: Agent): Signal<DiffStat | null> | null {
  const key = keyOf(agent);
  if (key === null) {
    const gone = stats.get(agent.id);
    if (gone?.value.peek()) {
      gone.value.value = null;
      version.value++;
    }
    return null;
  }
  let entry = stats.get(agent.id);
  if (!entry) {
    entry = { key: "", value: signal(null) };
    stats.set(agent.id, entry);
  }
  if (entry.key !== key) {
    entry.key = key;
    const target = entry.value;
    call("agent.diff", { id: agent.id }).then(
      (d) => {
        target.value = {
          files: d.files.length,
          additions: d.additions,
          deletions: d.deletions,
          repo: d.repo_root,
          paths: d.files.map((f) => f.path),
        };
        version.value++;
      },
      () => {
        target.value = null;
        version.value++;
      },
    );
  }
  return entry.value;
}

/** Files agent `id` changed that another live agent of its repository changed too. */
export function overlapOf(id: string): ReadonlySignal<{ files: string[]; agents: string[] }> {
  return computed(() => {
    void version.value;
    const mine = stats.get(id)?.value.value;
    const files = new Set<string>();
    const agents: string[] = [];
    if (!mine) return { files: [], agents };
    const own = new Set(mine.paths);
    for (const [other, entry] of stats) {
      const theirs = entry.value.value;
      if (other === id || !theirs || theirs.repo !== mine.repo) continue;
      const shared = theirs.paths.filter((p) => own.has(p));
      if (shared.length === 0) continue;
      agents.push(other);
      for (const p of shared) files.add(p);
    }
    return { files: [...files].sort(), agents };
  });
}
