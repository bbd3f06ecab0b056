/**
 * The approval desk: claude's permission prompts (`can_use_tool` control requests, sent because
 * the agent runs with `--permission-prompt-tool stdio`) become stored approvals, answered exactly
 * once. Fail closed, never open: a prompt is stored BEFORE its line is stored or shown; a prompt
 * that cannot be stored, is not answered in time, or whose process is gone is denied or expired,
 * never allowed; claude withdrawing it (`control_cancel_request`, e.g. after an interrupt) closes it
 * as `cancelled`. Only the answer that wins the compare-and-set in the store writes the one
 * `control_response` claude receives.
 * @module
 */
import { type Approval, type ApprovalState, InvalidStateError, newId } from "../models/mod.ts";
import type { ApprovalAnswer, ApprovalRoute, Store } from "../store/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import type { AgentRun } from "./run.ts";
import type { SupervisorLog } from "./types.ts";

/** A person's answer to an approval. */
export interface ApprovalDecision {
  decision: "allow" | "deny";
  /** The deny message the model sees (default: "Denied by <who>"). */
  message?: string | undefined;
  /** Allow with this input instead of the one claude asked with. */
  updated_input?: Record<string, unknown> | undefined;
  /** Allow, and add claude's suggested permission rules for the rest of this run. */
  remember?: "session" | undefined;
  /** The answering surface: admin, cli, rpc … */
  answered_by?: string | undefined;
}

export interface ApprovalDeskOptions {
  store: Store;
  /** `supervisor.approvalTimeoutMs`: a prompt nobody answered within this is denied. */
  settings: EngineSettings;
  log: SupervisorLog;
  runOf(agentId: string): AgentRun | undefined;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Permission prompts of all runs. */
export class ApprovalDesk {
  #o: ApprovalDeskOptions;
  /** Approval id → its timeout. */
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: ApprovalDeskOptions) {
    this.#o = options;
  }

  /**
   * A control request claude sent on stdout. `can_use_tool` is stored as a pending approval
   * (synchronously: before the line itself is stored); any other subtype is refused at once so
   * claude never waits on a question nobody will answer.
   */
  onRequest(run: AgentRun, line: Json): void {
    const requestId = typeof line.request_id === "string" ? line.request_id : null;
    const request = isObject(line.request) ? line.request : {};
    if (requestId === null) return;
    if (request.subtype !== "can_use_tool") {
      this.#reply(run, requestId, {
        subtype: "error",
        request_id: requestId,
        error: `Unsupported control request subtype: ${String(request.subtype)}`,
        error_code: "unsupported_request",
      });
      return;
    }
    const input = isObject(request.input) ? request.input : {};
    let approval: Approval;
    try {
      approval = this.#o.store.insertApproval(run.agentId, {
        id: newId(),
        request_id: requestId,
        proc_marker: run.marker,
        tool_name: typeof request.tool_name === "string" ? request.tool_name : "unknown",
        input_json: JSON.stringify(input),
        description: typeof request.description === "string" ? request.description : null,
        suggestions_json: JSON.stringify(
          Array.isArray(request.permission_suggestions) ? request.permission_suggestions : [],
        ),
        tool_use_id: typeof request.tool_use_id === "string" ? request.tool_use_id : null,
      });
    } catch (err) {
      // Nobody can ever answer a prompt that was not stored: deny it now.
      this.#o.log("error", "Cannot store a permission prompt; denying it", {
        agent: run.agentId,
        err: `${err}`,
      });
      this.#reply(run, requestId, {
        subtype: "success",
        request_id: requestId,
        response: {
          behavior: "deny",
          message: "The supervisor could not record this permission request, so it is denied.",
        },
      });
      return;
    }
    run.approvals.set(requestId, approval.id);
    const timeoutMs = this.#o.settings.supervisor.approvalTimeoutMs;
    this.#timers.set(
      approval.id,
      setTimeout(() => {
        this.#timers.delete(approval.id);
        this.#close(approval.id, {
          state: "denied",
          answered_by: "timeout",
          message: `Denied: nobody answered this permission request within ${
            Math.round(timeoutMs / 1000)
          } s.`,
        });
      }, timeoutMs),
    );
  }

  /** claude withdrew a request (interrupt, or it gave up): its approval is `cancelled`. */
  onCancel(run: AgentRun, line: Json): void {
    const requestId = typeof line.request_id === "string" ? line.request_id : null;
    const id = requestId === null ? undefined : run.approvals.get(requestId);
    if (id === undefined) return;
    this.#forget(run, requestId!, id);
    try {
      this.#o.store.answerApproval(id, {
        state: "cancelled",
        answered_by: "claude",
        message: "claude withdrew the request (the turn was interrupted or it gave up)",
      });
    } catch (err) {
      this.#o.log("error", "Cannot record a withdrawn permission request", { err: `${err}` });
    }
  }

  /**
   * A person answers approval `id`. Exactly once: when it is no longer pending (answered, timed
   * out, withdrawn, expired) the answer is refused with `invalid_state`, and claude hears nothing.
   */
  respond(id: string, d: ApprovalDecision): Approval {
    const store = this.#o.store;
    const found = store.getApproval(id);
    const agent = found ? store.getAgent(found.agent_id) : undefined;
    if (found && agent?.permission_mode === "bypassPermissions") {
      throw new InvalidStateError(
        `Cannot answer approval "${id}": agent "${agent.id}" runs in bypassPermissions mode`,
      );
    }
    if (found && found.state !== "pending") {
      throw new InvalidStateError(`Cannot answer approval "${id}": it is already ${found.state}`);
    }
    const who = d.answered_by ?? "rpc";
    const allow = d.decision === "allow";
    const message = allow ? null : d.message?.trim() || `Denied by the operator (${who})`;
    const closed = this.#close(id, {
      state: allow ? "allowed" : "denied",
      answered_by: who,
      message,
      remember: allow && d.remember === "session" ? "session" : null,
    }, allow ? d.updated_input : undefined);
    if (!closed) {
      const now = store.getApproval(id);
      throw new InvalidStateError(
        `Cannot answer approval "${id}": it is already ${now?.state ?? "closed"}`,
      );
    }
    return closed;
  }

  /**
   * A run's process ended: its pending approvals can never be answered usefully (the tool can
   * never run on them), so they expire.
   */
  runEnded(run: AgentRun): void {
    for (const [requestId, id] of run.approvals) this.#forget(run, requestId, id);
    try {
      this.#o.store.closePendingApprovals({
        state: "expired",
        answered_by: "daemon",
        message: "The claude process that asked has ended; nothing ran on this request.",
      }, { agentId: run.agentId, procMarker: run.marker });
    } catch (err) {
      this.#o.log("error", "Cannot expire a run's permission requests", {
        agent: run.agentId,
        err: `${err}`,
      });
    }
  }

  /** At start-up: every pending approval belongs to a process of an earlier daemon. */
  recover(): number {
    return this.#o.store.closePendingApprovals({
      state: "expired",
      answered_by: "daemon",
      message: "The daemon restarted; the process that asked is gone, nothing ran on it.",
    }).length;
  }

  /** Closes a pending approval (CAS) and, when this call won, tells claude. */
  #close(
    id: string,
    answer: ApprovalAnswer & { state: Exclude<ApprovalState, "pending"> },
    updatedInput?: Record<string, unknown>,
  ): Approval | undefined {
    const result = this.#o.store.answerApproval(id, answer);
    if (!result) return undefined;
    const timer = this.#timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(id);
    const run = this.#o.runOf(result.approval.agent_id);
    // Only the process that asked can be answered; another (or none) never sees this answer.
    if (run && run.marker === result.route.proc_marker) {
      run.approvals.delete(result.route.request_id);
      this.#reply(run, result.route.request_id, {
        subtype: "success",
        request_id: result.route.request_id,
        response: responseOf(result.approval, result.route, answer, updatedInput),
      });
    }
    return result.approval;
  }

  #forget(run: AgentRun, requestId: string, id: string): void {
    run.approvals.delete(requestId);
    const timer = this.#timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(id);
  }

  #reply(run: AgentRun, requestId: string, response: Json): void {
    run.send({ type: "control_response", response }).catch((err) => {
      // The process is gone: its approvals expire when the run ends.
      this.#o.log("warn", "Cannot answer claude's control request", {
        agent: run.agentId,
        request: requestId,
        err: `${err}`,
      });
    });
  }
}

/** The `PermissionResult` claude expects for a closed approval. */
function responseOf(
  approval: Approval,
  route: ApprovalRoute,
  answer: ApprovalAnswer,
  updatedInput?: Record<string, unknown>,
): Json {
  const toolUseID = approval.tool_use_id ?? undefined;
  if (answer.state !== "allowed") {
    return { behavior: "deny", message: answer.message ?? "Denied", toolUseID };
  }
  const input = updatedInput ?? JSON.parse(route.input_json);
  const allow: Json = { behavior: "allow", updatedInput: input, toolUseID };
  if (answer.remember === "session") {
    allow.updatedPermissions = JSON.parse(route.suggestions_json);
  }
  return allow;
}
