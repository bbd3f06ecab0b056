/**
 * `LiveSession`: the live side of one {@linkcode AgentRun}. A claude process whose stdin stays
 * open after a result is a live session: it takes the next prompt at once (`deliver`), queues
 * prompts sent while a turn runs, answers control requests (`interrupt`, `set_model`,
 * `set_permission_mode`) and ends when its stdin closes (idle period, complete, cancel, shutdown).
 * The run owns the process; this room owns the turn bookkeeping and the control channel.
 * @module
 */
import { BusyError, EngineError, InvalidStateError } from "../models/mod.ts";
import type { Store } from "../store/mod.ts";
import { type ClaudeProcess, userMessage } from "../claude/mod.ts";

/** How long a control request waits for its `control_response` (interrupt answers in ~13 ms). */
export const CONTROL_TIMEOUT_MS = 10_000;

/**
 * How a prompt reached a live process: it started a turn at once, the CLI queued it as the next
 * turn, or (steer) the CLI takes it into the running turn at its next tool boundary.
 */
export type Delivery = "started" | "queued" | "steered";

/** A control request the CLI refused (`subtype: "error"`): not possible in its current state. */
export class ControlError extends EngineError {
  override name = "ControlError";
  constructor(message: string, readonly errorCode: string | null) {
    super("invalid_state", message);
  }
}

interface PendingControl {
  what: string;
  resolve(response: Record<string, unknown>): void;
  reject(err: Error): void;
}

/** What a live session needs from its run. */
export interface LiveSessionHost {
  readonly agentId: string;
  readonly store: Store;
  /** Policy: one prompt per process (never live). */
  readonly closeAfterResult: boolean;
  /** The process, once spawned. */
  proc(): ClaudeProcess | null;
  /** A stop (or a kill after the result) is under way. */
  stopping(): boolean;
  /** Writes one JSON object as one line on stdin. */
  send(message: Record<string, unknown>): Promise<void>;
  /** A new turn starts in the same process. */
  turnStarted(): void;
}

/** What a result means for the session: the CLI goes on with a queued prompt, or it is idle. */
export interface TurnEnd {
  /** A prompt queued during the turn runs next: the agent stays running. */
  continues: boolean;
  /** The turn ended because of an interrupt. */
  interrupted: boolean;
}

export function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** The turn bookkeeping and the control channel of one run's process. */
export class LiveSession {
  #host: LiveSessionHost;
  /** A turn is running (from the first prompt until its result; again after `deliver`). */
  #turnActive = true;
  #turnStartedAt: number = Date.now();
  /**
   * Prompts written while a turn ran, by uuid, until the CLI's `command_lifecycle` says it took
   * them: a queued prompt starts after a result (its own turn), a steered one usually before
   * (merged into the running turn, no result of its own). A result with any left means a turn
   * follows in the same process.
   */
  #pendingCommands = new Set<string>();
  /** Since when a live process waits for its next prompt (null while a turn runs). */
  #idleSince: number | null = null;
  /** Since when stdin is closed with nothing left to run: the CLI must exit soon after. */
  #exitDueSince: number | null = null;
  /** An interrupt was asked for this turn: its error result ends it as awaiting_review. */
  #interrupting = false;
  #controls = new Map<string, PendingControl>();

  constructor(host: LiveSessionHost) {
    this.#host = host;
  }

  /**
   * A live-session process is attached and takes prompts and control requests on its stdin.
   * One-prompt runs (`closeAfterResult`) are never live: they behave as before live sessions.
   */
  get live(): boolean {
    const proc = this.#host.proc();
    return !this.#host.closeAfterResult && proc !== null && !proc.stdinClosed &&
      !this.#host.stopping();
  }

  /** A turn runs in the process (the first prompt's, or one started by `deliver`). */
  get turnActive(): boolean {
    return this.#turnActive;
  }

  /** Since when a live process waits for a prompt, or null (a turn runs, or it is not live). */
  get idleSince(): number | null {
    return this.live ? this.#idleSince : null;
  }

  /** When the current turn started (the runtime limit counts per turn in a live session). */
  get turnStartedAt(): number {
    return this.#turnStartedAt;
  }

  /** Since when stdin is closed with no turn left: the process should be exiting. */
  get exitDueSince(): number | null {
    return this.#exitDueSince;
  }

  /** An interrupt was asked for the running turn. */
  get interrupting(): boolean {
    return this.#interrupting;
  }

  /**
   * Ends a live session between turns: closes stdin so the CLI exits (the status stays). A turn
   * still running finishes first; the CLI exits after its result.
   */
  endSession(): void {
    const proc = this.#host.proc();
    if (!proc || proc.stdinClosed) return;
    proc.closeStdin();
    if (!this.#turnActive) this.#exitDueSince = Date.now();
  }

  /**
   * Gives a live process its next prompt. Idle → the agent moves to running and the turn starts
   * at once; a turn running → the CLI queues the prompt as its next turn (the status stays).
   */
  async deliver(prompt: string, steer = false): Promise<Delivery> {
    const id = this.#host.agentId;
    if (!this.live) throw new InvalidStateError(`Cannot send to agent "${id}": no live process`);
    const uuid = crypto.randomUUID();
    if (this.#turnActive) {
      this.#pendingCommands.add(uuid);
      try {
        // `next` joins the running turn at its next tool boundary (a turn with none left runs
        // it as the next turn); `later` waits for the turn's result. `now` would abort the turn.
        await this.#host.send(userMessage(prompt, uuid, steer ? "next" : "later"));
      } catch (err) {
        this.#pendingCommands.delete(uuid);
        throw err;
      }
      return steer ? "steered" : "queued";
    }
    // The status moves first, so the turn's result can never arrive before `running`.
    this.#host.store.transition(id, "running", {
      error_code: null,
      error_message: null,
      finished_at: null,
      pending_prompt: null,
    });
    this.#turnActive = true;
    this.#turnStartedAt = Date.now();
    this.#idleSince = null;
    this.#interrupting = false;
    this.#host.turnStarted();
    await this.#host.send(userMessage(prompt, uuid));
    return "started";
  }

  /**
   * Interrupts the running turn (`interrupt` control request): the turn ends with an error
   * result, the process stays, and the agent goes to awaiting_review with what it produced.
   */
  async interrupt(): Promise<Record<string, unknown>> {
    if (!this.live || !this.#turnActive) {
      throw new InvalidStateError(
        `Cannot interrupt agent "${this.#host.agentId}": no turn is running in a live process`,
      );
    }
    this.#interrupting = true;
    return await this.control({ subtype: "interrupt" });
  }

  /**
   * Sends one control request and waits (bounded) for its `control_response`. Rejects with
   * {@linkcode ControlError} when the CLI answers with an error.
   */
  control(
    request: Record<string, unknown>,
    timeoutMs: number = CONTROL_TIMEOUT_MS,
  ): Promise<Record<string, unknown>> {
    if (!this.live) {
      return Promise.reject(
        new InvalidStateError(`Cannot control agent "${this.#host.agentId}": no live process`),
      );
    }
    const requestId = `hero_${randomHex(12)}`;
    const what = String(request.subtype);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#controls.set(requestId, { what, resolve, reject });
      timer = setTimeout(() => {
        this.#controls.delete(requestId);
        reject(new BusyError(`Cannot ${what}: claude did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    }).finally(() => clearTimeout(timer));
    this.#host.send({ type: "control_request", request_id: requestId, request }).catch((err) => {
      this.#controls.get(requestId)?.reject(err instanceof Error ? err : new Error(String(err)));
      this.#controls.delete(requestId);
    });
    return answered;
  }

  /** A `control_response` or `command_lifecycle` line of the process. */
  onLine(value: Record<string, unknown>): void {
    if (value.type === "control_response") return this.onControlResponse(value);
    // Taken (started, or merged into the running turn), completed or cancelled: no turn waits.
    if (value.state !== "queued") this.#pendingCommands.delete(String(value.command_uuid));
  }

  /** Settles the control request a `control_response` line answers. */
  onControlResponse(value: Record<string, unknown>): void {
    const response = value.response as Record<string, unknown> | undefined;
    const id = typeof response?.request_id === "string" ? response.request_id : null;
    const pending = id ? this.#controls.get(id) : undefined;
    if (!id || !pending) return;
    this.#controls.delete(id);
    if (response!.subtype === "success") {
      const body = response!.response;
      pending.resolve(
        body && typeof body === "object" && !Array.isArray(body)
          ? body as Record<string, unknown>
          : {},
      );
    } else {
      pending.reject(
        new ControlError(
          `Cannot ${pending.what}: claude answered ${String(response!.error ?? "an error")}`,
          typeof response!.error_code === "string" ? response!.error_code : null,
        ),
      );
    }
  }

  /** The output ended: no control request can be answered any more. */
  abandon(): void {
    for (const pending of this.#controls.values()) {
      pending.reject(new Error("Cannot get an answer from claude: its output ended"));
    }
    this.#controls.clear();
  }

  /**
   * A turn's result arrived. A prompt queued during the turn starts now (the agent stays
   * running); otherwise the session goes idle, and stdin closes when the policy says so.
   */
  onResult(now: number): TurnEnd {
    const interrupted = this.#interrupting;
    this.#interrupting = false;
    if (this.#pendingCommands.size > 0) {
      // Only the last turn's result decides the status.
      this.#turnStartedAt = now;
      return { continues: true, interrupted };
    }
    this.#turnActive = false;
    this.#idleSince = now;
    const proc = this.#host.proc();
    // One prompt per process: closing stdin lets the CLI exit; a live session keeps it open
    // until it ends (idle, complete, cancel, shutdown).
    if (this.#host.closeAfterResult) proc?.closeStdin();
    if (proc?.stdinClosed) this.#exitDueSince ??= now;
    return { continues: false, interrupted };
  }
}

/**
 * Makes room for queued agents at the concurrency cap: an idle live session holds a slot, so with
 * `waiting` agents and `free` slots, the sessions idle the longest are ended (their CLI exits and
 * gives its slot back; a later prompt resumes the session in a new process). Sessions already
 * ending count as room on the way.
 */
export function endIdleSessionsFor(
  runs: Iterable<{ session: LiveSession; shadow: boolean }>,
  waiting: number,
  free: number,
): void {
  const idle: LiveSession[] = [];
  let ending = 0;
  for (const { session, shadow } of runs) {
    if (shadow) continue;
    if (session.exitDueSince !== null) ending++;
    else if (session.idleSince !== null) idle.push(session);
  }
  idle.sort((a, b) => a.idleSince! - b.idleSince!);
  for (const session of idle.slice(0, Math.max(0, waiting - free - ending))) session.endSession();
}
