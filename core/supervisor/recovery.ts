/**
 * Crash recovery, before anything else accepts work: every `running` agent becomes `failed`
 * (`daemon_restart`) and every process carrying one of our agents' markers is terminated. Never
 * re-runs a started agent; queued agents are queued again by the caller (from the database).
 * @module
 */
import type { Store } from "../store/mod.ts";
import { AGENT_MARKER_VAR } from "../claude/mod.ts";
import { type ProcessControl, terminateTrees } from "./process_control.ts";
import { ownedProcesses, type ProcessInfo } from "./process_table.ts";
import type { SupervisorLog } from "./types.ts";

export interface RecoveryReport {
  reconciled: number;
  requeued: number;
  /** Processes found carrying a marker of one of our agents, and terminated. */
  swept: number;
}

function parseMarker(value: string): { agentId: string; marker: string } | null {
  const dot = value.indexOf(".");
  if (dot <= 0) return null;
  return { agentId: value.slice(0, dot), marker: value };
}

const MARKER_IN_ENV = new RegExp(` ${AGENT_MARKER_VAR}=(\\S+)`);

/**
 * Fails every agent left `running` (one transaction) and terminates every orphan process of
 * ours. Returns how many rows and processes it dealt with.
 */
export async function recoverRuns(
  options: { store: Store; control: ProcessControl; graceMs: number; log: SupervisorLog },
): Promise<Omit<RecoveryReport, "requeued">> {
  const { store, control } = options;
  const all = store.listAgentsByStatus(["running"]);
  // A run that was being paused when the daemon died is paused: its pause is on the row, its
  // session is kept, and the resume timer picks it up like any other pause.
  const pausing = all.filter((a) => a.pause_reason !== null);
  const running = all.filter((a) => a.pause_reason === null);
  const paused = store.transitionMany(
    pausing.map((a) => a.id),
    "paused",
    { finished_at: Date.now() },
    "last_line", // the daemon's downtime is not active time
  );
  const reconciled = store.transitionMany(
    running.map((a) => a.id),
    "failed",
    {
      error_code: "daemon_restart",
      error_message: "The daemon stopped while this agent was running",
      finished_at: Date.now(),
    },
    "last_line",
  );

  // Everything still alive with a marker of ours is an orphan: no agent can be running yet.
  const table = await control.list();
  const owned: ProcessInfo[] = [];
  const markers = new Set<string>();
  for (const p of table) {
    const m = MARKER_IN_ENV.exec(p.argsAndEnv);
    if (!m || p.pid === Deno.pid) continue;
    const parsed = parseMarker(m[1]!);
    if (!parsed) continue;
    const record = store.getProcessRecord(parsed.agentId);
    if (record?.marker === parsed.marker) markers.add(parsed.marker);
  }
  for (const marker of markers) {
    owned.push(
      ...ownedProcesses(table, { marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid }),
    );
  }
  // All orphans in shared rounds (one ps snapshot, one kill run each), as at shutdown: one
  // terminate loop per orphan would start a ps per orphan at once.
  if (markers.size > 0) {
    await terminateTrees({
      control,
      graceMs: options.graceMs,
      targets: [...markers].map((marker) => ({
        query: { marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid },
        termAll: true,
      })),
    });
  }
  if (owned.length > 0) {
    options.log("warn", "terminated orphaned agent processes", { count: owned.length });
  }
  return { reconciled: reconciled.length + paused.length, swept: owned.length };
}
