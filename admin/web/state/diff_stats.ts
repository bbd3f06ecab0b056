/**
 * The size of an agent's changes for its dashboard card (files, +/−), from `agent.diff` without
 * patches. Read only for agents in review (their changes have settled), once per agent and turn
 * count; agents that did not start in git have none.
 * @module
 */
import { type Signal, signal } from "@preact/signals";
import type { Agent } from "@hero/sdk";
import { call } from "./rpc.ts";

export interface DiffStat {
  files: number;
  additions: number;
  deletions: number;
}

const stats = new Map<string, { key: string; value: Signal<DiffStat | null> }>();

/** The agent's diff stat (null until known, or when it has none); loads it when due. */
export function diffStatOf(agent: Agent): Signal<DiffStat | null> | null {
  if (agent.status !== "awaiting_review" || agent.kind === "shadow") return null;
  const key = `${agent.turn_count}|${agent.updated_at}`;
  let entry = stats.get(agent.id);
  if (!entry) {
    entry = { key: "", value: signal(null) };
    stats.set(agent.id, entry);
  }
  if (entry.key !== key) {
    entry.key = key;
    const target = entry.value;
    call("agent.diff", { id: agent.id }).then(
      (
        d,
      ) => (target.value = {
        files: d.files.length,
        additions: d.additions,
        deletions: d.deletions,
      }),
      () => (target.value = null),
    );
  }
  return entry.value;
}
