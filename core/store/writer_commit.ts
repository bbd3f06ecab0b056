/**
 * Internal: one `MessageWriter` batch as one transaction. The same code runs on the event loop
 * (inline writers) and in the writer's worker thread, so both store a batch identically.
 */
import type { Agent } from "../models/mod.ts";
import { type Connection, rollback } from "./_connection.ts";
import { type StorageFault, storageFaultOf } from "./db.ts";
import { type AgentPatch, toAgent, updateAgentRow } from "./agents.ts";
import { messageOf } from "./errors.ts";
import { INSERT_EVENT, insertEvent } from "./events.ts";
import { INSERT_MESSAGE } from "./messages.ts";
import type { AppendResult, PendingLine } from "./writer_types.ts";

const SELECT_HEAD = "SELECT agent_key, last_seq FROM agents WHERE id = ?";

/**
 * What a batch's transaction did: committed (per line its seq and event id, or null for a line
 * whose agent was deleted meanwhile; the agent rows it changed), or rolled back with the storage
 * fault that may pass by itself (null for any other error) and the error's message.
 */
export type BatchOutcome =
  | {
    ok: true;
    results: Array<AppendResult | null>;
    agents: Agent[];
    agentEventIds: Array<[string, number]>;
  }
  | { ok: false; fault: StorageFault | null; message: string };

interface Touched {
  key: number;
  seq: number;
  patch: AgentPatch | undefined;
}

/**
 * Stores `lines` in one `BEGIN IMMEDIATE` transaction on `conn`: each line gets the next seq of its
 * agent and a `message` event, each touched agent its `last_seq` and merged patch (plus an `agent`
 * event when patched). Never throws: a failure rolls back and is returned. `beforeCommit` (a test
 * hook) runs just before COMMIT; its throw fails the batch.
 */
export function commitBatch(
  conn: Connection,
  lines: readonly PendingLine[],
  beforeCommit?: () => void,
): BatchOutcome {
  const results: Array<AppendResult | null> = [];
  const agents: Agent[] = [];
  const agentEventIds: Array<[string, number]> = [];
  try {
    conn.db.exec("BEGIN IMMEDIATE");
    // Cached on the connection: prepared once, reused by every batch.
    const insertMessage = conn.prepare(INSERT_MESSAGE);
    const insertMessageEvent = conn.prepare(INSERT_EVENT);
    const selectHead = conn.prepare(SELECT_HEAD);
    const now = Date.now();
    const touched = new Map<string, Touched | null>();
    for (const line of lines) {
      let agent = touched.get(line.agentId);
      if (agent === undefined) {
        const head = selectHead.get(line.agentId) as
          | { agent_key: number; last_seq: number }
          | undefined;
        agent = head ? { key: head.agent_key, seq: head.last_seq, patch: undefined } : null;
        touched.set(line.agentId, agent);
      }
      if (agent === null) {
        // Deleted after it was appended to: fail its lines only, not the batch.
        results.push(null);
        continue;
      }
      const seq = ++agent.seq;
      const { bytes } = line;
      insertMessage.run(
        agent.key,
        seq,
        line.ts,
        line.type,
        line.subtype,
        bytes.byteLength,
        line.parseError ? 1 : 0,
        line.eofNoNewline ? 1 : 0,
        bytes,
      );
      const eventId = Number(
        insertMessageEvent.run(now, "message", agent.key, seq).lastInsertRowid,
      );
      if (line.agentPatch) agent.patch = mergePatch(agent.patch, line.agentPatch);
      results.push({ seq, eventId });
    }
    for (const [agentId, agent] of touched) {
      if (agent === null) continue;
      const row = updateAgentRow(
        conn,
        agent.key,
        { sets: ["last_seq = ?"], values: [agent.seq] },
        agent.patch,
        agent.patch ? now : undefined,
      );
      if (agent.patch) {
        agentEventIds.push([agentId, insertEvent(conn, now, "agent", agent.key, null)]);
      }
      agents.push(toAgent(row));
    }
    beforeCommit?.();
    conn.db.exec("COMMIT");
  } catch (cause) {
    rollback(conn.db);
    return { ok: false, fault: storageFaultOf(cause), message: messageOf(cause) };
  }
  return { ok: true, results, agents, agentEventIds };
}

function mergePatch(into: AgentPatch | undefined, patch: AgentPatch): AgentPatch {
  const merged: Record<string, unknown> = { ...into };
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) merged[key] = value;
  return merged as AgentPatch;
}
