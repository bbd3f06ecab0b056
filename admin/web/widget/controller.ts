/**
 * The widget's state machine, without a DOM: which agent the panel shows, its transcript items in
 * order, the composer / working / follow-up mode, sending prompts (a new agent or a follow-up of
 * the same one), cancelling, restoring a conversation after a reload, and the per-tab state in
 * sessionStorage. The view ({@linkcode HeroAgentWidget}) renders what it says and hands it the
 * user's input; {@linkcode ControllerListener} is everything it reports.
 * @module
 */
import {
  type Agent,
  type AgentPermissionMode,
  type Approval,
  type Effort,
  EFFORTS,
  type MessageEventData,
  type MethodName,
  type RpcMethods,
  type SystemHealth,
  type SystemInfo,
} from "@hero/sdk";
import { LiveText, PendingApprovals } from "./live.ts";
import { type BatchCall, RpcError, type StreamHandlers } from "./api.ts";
import { type Item, itemsOf } from "./lines.ts";
import { loadState, saveState, type SessionState } from "./session.ts";

/** Statuses in which the agent works (the working header shows). */
export const ACTIVE: ReadonlySet<string> = new Set(["queued", "running"]);
/** Statuses that take a follow-up. */
export const FOLLOWABLE: ReadonlySet<string> = new Set(["awaiting_review", "failed"]);
/** Pages of `agent.messages` read when restoring a transcript (500 lines each). */
const MAX_RESTORE_PAGES = 20;

/** What the controller needs of the network ({@linkcode WidgetApi} in the browser). */
export interface WidgetTransport {
  call<M extends MethodName>(
    method: M,
    params: RpcMethods[M]["params"],
  ): Promise<RpcMethods[M]["result"]>;
  batch(calls: BatchCall[]): Promise<unknown[]>;
  /** Follows one agent's events after `afterId`; returns the function that stops it. */
  stream(agentId: string, afterId: number, handlers: StreamHandlers): () => void;
}

/** Which part of the panel is in use. */
export type Mode = "compose" | "working" | "followup";

/** What the controller reports to its view. */
export interface ControllerListener {
  /** Agent, status, pending, error or cancelling changed: render the chrome again. */
  changed(): void;
  /** `system.info` arrived: the model and effort choices can be filled in. */
  infoLoaded(): void;
  /** `item` was inserted at `index` of {@linkcode WidgetController.items}. */
  inserted(item: Item, index: number): void;
  /** The transcript was emptied. */
  cleared(): void;
  /** Live assistant text of the running turn (what a spoken reply reads out). */
  reply(text: string): void;
  /** The running turn ended. */
  replyDone(): void;
  /** The text being written changed ("" when nothing streams). */
  liveText?(text: string): void;
  /** The pending permission prompts (or one's answer in flight) changed. */
  approvalsChanged?(): void;
}

/** Options of {@linkcode WidgetController}. */
export interface WidgetControllerOptions {
  /** The home service (`hero_books`), already validated. */
  homeMcp: string;
  api: WidgetTransport;
  /** sessionStorage, or null when the page forbids it. */
  storage: Storage | null;
  listener: ControllerListener;
  /** Epoch ms. Default `Date.now`. */
  now?: () => number;
  /** The mode new agents run in (the embedder's choice); default: the server's (bypass). */
  permissionMode?: AgentPermissionMode | null;
}

/** The model and effort of a new agent, as chosen in the composer ("" = the server's default). */
export interface Choice {
  model: string;
  effort: string;
}

/** The state machine of one widget; `stop()` drops everything still in flight. */
export class WidgetController {
  readonly homeMcp: string;
  #api: WidgetTransport;
  #storage: Storage | null;
  #listener: ControllerListener;
  #now: () => number;
  #state: SessionState;
  #agent: Agent | null = null;
  #items: Item[] = [];
  #lastSeq = 0;
  #closeStream: (() => void) | null = null;
  #info: SystemInfo | null = null;
  #infoRequested = false;
  #pending = false;
  #cancelling = false;
  #error: string | null = null;
  #permissionMode: AgentPermissionMode | null;
  #live = new LiveText();
  #approvals = new PendingApprovals();
  /** Approval ids whose answer is on its way. */
  #answering = new Set<string>();
  /** Bumped by `stop()`, so stale async work is dropped. */
  #generation = 0;
  /** The agent left the running turn; the turn ends once its lines are read (`#endTurn`). */
  #ending = false;

  constructor(options: WidgetControllerOptions) {
    this.homeMcp = options.homeMcp;
    this.#api = options.api;
    this.#storage = options.storage;
    this.#listener = options.listener;
    this.#now = options.now ?? Date.now;
    this.#permissionMode = options.permissionMode ?? null;
    this.#state = loadState(this.#storage, this.homeMcp);
  }

  /** The per-tab state (drafts, choices, the conversation's agent and turns). */
  get state(): Readonly<SessionState> {
    return this.#state;
  }

  /** The agent of the conversation, once known. */
  get agent(): Agent | null {
    return this.#agent;
  }

  /** The transcript, in seq order. */
  get items(): readonly Item[] {
    return this.#items;
  }

  /** `system.info`, once loaded. */
  get info(): SystemInfo | null {
    return this.#info;
  }

  /** A prompt or a restore is on its way. */
  get pending(): boolean {
    return this.#pending;
  }

  /** A cancel was asked for and not answered yet. */
  get cancelling(): boolean {
    return this.#cancelling;
  }

  /** The permission prompts of the agent waiting for an answer, oldest first. */
  get approvals(): Approval[] {
    return this.#agent ? this.#approvals.list.filter((a) => a.agent_id === this.#agent!.id) : [];
  }

  /** Whether the answer to approval `id` is on its way. */
  answering(id: string): boolean {
    return this.#answering.has(id);
  }

  /** The text the model is writing now, not stored yet ("" when nothing streams). */
  get liveText(): string {
    return this.#live.text;
  }

  /** The error line, or null. */
  get error(): string | null {
    return this.#error;
  }

  /** The agent's status, `none` without one. */
  get status(): string {
    return this.#agent?.status ?? "none";
  }

  /** Composer (no agent, or a finished one), working, or follow-up. */
  get mode(): Mode {
    // A turn whose lines are still on their way is not over for the panel (nor for a new prompt).
    if (this.#agent !== null && (ACTIVE.has(this.#agent.status) || this.#ending)) return "working";
    if (this.#agent !== null && FOLLOWABLE.has(this.#agent.status)) return "followup";
    return "compose";
  }

  /** Sending, or the agent works: a spoken prompt has to wait. */
  get busy(): boolean {
    return this.#pending || this.mode === "working";
  }

  /** When the running turn started (epoch ms), or null when nothing runs. */
  get turnStartedAt(): number | null {
    const agent = this.#agent;
    if (!agent || !ACTIVE.has(agent.status)) return null;
    return this.#state.turnStartedAt ?? agent.started_at ?? agent.created_at;
  }

  /** The model to preselect (the saved choice when still offered, else the default) or null. */
  get model(): string | null {
    const info = this.#info;
    if (!info) return null;
    const saved = this.#state.model;
    return saved && info.claude.models.includes(saved) ? saved : info.claude.default_model;
  }

  /** The effort to preselect, "" for the server's default. */
  get effort(): string {
    const effort = this.#state.effort ?? this.#info?.claude.default_effort ?? "";
    return EFFORTS.includes(effort as Effort) ? effort : "";
  }

  /** Restores the saved conversation (if any) and reports the first state. */
  start(): void {
    if (this.#state.agentId) void this.#attach(this.#state.agentId);
    else this.#listener.changed();
  }

  /** Drops the stream and everything in flight. */
  stop(): void {
    this.#generation++;
    this.#closeStream?.();
    this.#closeStream = null;
  }

  /** Opens or closes the panel (saved unless `persist` is false); opening loads the choices. */
  setOpen(open: boolean, persist = true): void {
    this.#state.open = open;
    if (persist) this.#save();
    if (open) this.#ensureInfo();
  }

  /** Saves the composer's draft. */
  setDraft(text: string): void {
    this.#state.draft = text;
    this.#save();
  }

  /** Saves the follow-up row's draft. */
  setFollowDraft(text: string): void {
    this.#state.followDraft = text;
    this.#save();
  }

  /** Saves the chosen model and effort ("" = default). */
  choose(choice: Partial<Choice>): void {
    if (choice.model !== undefined) this.#state.model = choice.model || null;
    if (choice.effort !== undefined) this.#state.effort = choice.effort || null;
    this.#save();
  }

  #save(): void {
    saveState(this.#storage, this.homeMcp, this.#state);
  }

  #setError(message: string | null): void {
    this.#error = message;
  }

  #ensureInfo(): void {
    if (this.#infoRequested) return;
    this.#infoRequested = true;
    const generation = this.#generation;
    this.#api.call("system.info", {}).then((info) => {
      if (generation !== this.#generation) return;
      this.#info = info;
      this.#listener.infoLoaded();
    }, () => {
      // The server applies its defaults; the choices stay "default".
    });
  }

  /** Inserts an item in seq order (items of one seq keep their arrival order). */
  #addItem(item: Item): void {
    let at = this.#items.length;
    while (at > 0 && this.#items[at - 1]!.seq > item.seq) at--;
    this.#items.splice(at, 0, item);
    this.#listener.inserted(item, at);
  }

  /** One stored line of the current agent (lines at or below the last seen seq are skipped). */
  #addLine(seq: number, raw: string | null, live: boolean, type: string | null): void {
    if (seq <= this.#lastSeq) return;
    this.#lastSeq = seq;
    // The assembled line replaces what was streamed of it (a later message streams anew).
    if (type === "assistant") this.#clearLive();
    for (const item of itemsOf(seq, raw)) {
      this.#addItem(item);
      if (live && item.kind === "text") this.#listener.reply(item.text);
    }
  }

  #clearLive(): void {
    if (this.#live.clear()) this.#listener.liveText?.("");
  }

  #setApprovals(apply: (pending: PendingApprovals) => void): void {
    apply(this.#approvals);
    this.#listener.approvalsChanged?.();
  }

  #resetTranscript(): void {
    this.#ending = false;
    this.#clearLive();
    this.#setApprovals((p) => p.reset([]));
    this.#items = [];
    this.#lastSeq = 0;
    this.#listener.cleared();
  }

  #showUserTurns(agent: Agent): void {
    this.#addItem({ kind: "user", seq: 0, text: agent.prompt, voice: this.#state.firstVoice });
    for (const turn of this.#state.turns) {
      this.#addItem({ kind: "user", seq: turn.afterSeq + 0.5, text: turn.text, voice: turn.voice });
    }
  }

  #setAgent(agent: Agent): void {
    const was = this.#agent;
    this.#agent = agent;
    if (!ACTIVE.has(agent.status) && was !== null && ACTIVE.has(was.status)) this.#ending = true;
    this.#endTurn();
    this.#listener.changed();
  }

  /**
   * Ends a turn the agent left once every line it wrote (up to the row's `last_seq`) was read.
   * The status can come first: a stream attached after the turn ended replays each agent event
   * with the row as it is now, so its first event already says `awaiting_review` and the turn's
   * lines (the reply a spoken turn reads out) follow it.
   */
  #endTurn(): void {
    const agent = this.#agent;
    if (!this.#ending || agent === null || ACTIVE.has(agent.status)) return;
    if (this.#lastSeq < agent.last_seq && this.#closeStream !== null) return;
    this.#ending = false;
    this.#closeStream?.();
    this.#closeStream = null;
    this.#state.turnStartedAt = null;
    this.#save();
    this.#listener.replyDone();
    // A turn that ended without a prompt's answer (cancel, failure) leaves nothing to answer.
    this.#setApprovals((p) => p.reset([]));
  }

  #follow(agentId: string, afterEventId: number): void {
    this.#closeStream?.();
    const generation = this.#generation;
    this.#closeStream = this.#api.stream(agentId, afterEventId, {
      onMessage: (m: MessageEventData) => {
        if (generation !== this.#generation || m.agent_id !== agentId) return;
        this.#addLine(m.seq, m.raw, true, m.type);
        if (this.#ending) {
          this.#endTurn();
          if (!this.#ending) this.#listener.changed();
        }
      },
      onDelta: (d) => {
        if (generation !== this.#generation || d.agent_id !== agentId) return;
        if (this.#live.add(d)) this.#listener.liveText?.(this.#live.text);
      },
      onApproval: (a: Approval) => {
        if (generation !== this.#generation || a.agent_id !== agentId) return;
        this.#setApprovals((p) => p.apply([a]));
      },
      onAgent: (a: Agent) => {
        if (generation !== this.#generation || a.id !== agentId) return;
        // Replayed rows older than what we already know never roll the status back.
        if (this.#agent && a.updated_at < this.#agent.updated_at) return;
        this.#setAgent(a);
      },
    });
  }

  /** Restores a conversation after a reload: the stored lines, then live events when running. */
  async #attach(agentId: string): Promise<void> {
    const api = this.#api;
    const generation = this.#generation;
    this.#pending = true;
    this.#listener.changed();
    try {
      const [health, agent] = await api.batch([
        { method: "system.health", params: {} },
        { method: "agent.get", params: { id: agentId } },
      ]);
      if (generation !== this.#generation) return;
      if (agent instanceof RpcError) {
        if (agent.reason === "not_found") {
          this.#forget();
          return;
        }
        throw agent;
      }
      if (health instanceof RpcError) throw health;
      const current = agent as RpcMethods["agent.get"]["result"];
      this.#resetTranscript();
      this.#agent = current;
      this.#setApprovals((p) => p.reset(current.pending_approvals ?? []));
      this.#showUserTurns(current);
      let after = 0;
      for (let page = 0; page < MAX_RESTORE_PAGES; page++) {
        const batch = await api.call("agent.messages", {
          id: agentId,
          after_seq: after,
          limit: 500,
        });
        if (generation !== this.#generation) return;
        for (const m of batch.messages) this.#addLine(m.seq, m.raw, false, m.type);
        after = batch.next_seq;
        if (!batch.has_more || batch.messages.length === 0) break;
      }
      if (ACTIVE.has(current.status)) {
        this.#follow(agentId, (health as SystemHealth).checks.events.last_event_id);
      }
      this.#setError(null);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#setError(`Cannot restore the conversation: ${messageOf(err)}`);
    } finally {
      if (generation === this.#generation) {
        this.#pending = false;
        this.#listener.changed();
      }
    }
  }

  #forget(): void {
    this.#closeStream?.();
    this.#closeStream = null;
    this.#agent = null;
    this.#state.agentId = null;
    this.#state.turns = [];
    this.#state.firstVoice = false;
    this.#state.turnStartedAt = null;
    this.#save();
    this.#resetTranscript();
    this.#listener.changed();
  }

  /** Forgets the conversation: the next prompt starts a new agent. */
  newConversation(): void {
    this.#forget();
    this.#setError(null);
    this.#listener.changed();
  }

  /**
   * Sends a prompt: a follow-up of the current agent when it takes one, else a new agent with
   * `choice`. Resolves false when nothing was sent (empty, busy, or the server refused: then
   * {@linkcode error} says why and the draft stays). A typed prompt's draft is cleared.
   */
  async submit(raw: string, voice: boolean, choice: Choice): Promise<boolean> {
    const text = raw.trim();
    if (text === "" || this.#pending) return false;
    const agent = this.#agent;
    if (this.mode === "working") return false;
    const api = this.#api;
    const generation = this.#generation;
    this.#pending = true;
    this.#setError(null);
    this.#listener.changed();
    try {
      if (agent && FOLLOWABLE.has(agent.status)) {
        const health = await api.call("system.health", {});
        const next = await api.call("agent.follow_up", { id: agent.id, prompt: text, voice });
        if (generation !== this.#generation) return false;
        this.#state.turns.push({ afterSeq: next.last_seq, text, voice });
        if (!voice) this.#state.followDraft = "";
        this.#state.turnStartedAt = this.#now();
        this.#save();
        this.#addItem({ kind: "user", seq: next.last_seq + 0.5, text, voice });
        this.#agent = next;
        this.#follow(next.id, health.checks.events.last_event_id);
      } else {
        const created = await api.call("agent.create", {
          prompt: text,
          home_mcp: this.homeMcp,
          voice,
          ...(this.#permissionMode ? { permission_mode: this.#permissionMode } : {}),
          ...(choice.model ? { model: choice.model } : {}),
          ...(choice.effort ? { effort: choice.effort as Effort } : {}),
        });
        if (generation !== this.#generation) return false;
        this.#closeStream?.();
        this.#state.agentId = created.id;
        this.#state.turns = [];
        this.#state.firstVoice = voice;
        if (!voice) this.#state.draft = "";
        this.#state.turnStartedAt = this.#now();
        this.#save();
        this.#resetTranscript();
        this.#showUserTurns(created);
        this.#agent = created;
        // A new agent: its whole event history is what happened since it was created.
        this.#follow(created.id, 0);
      }
      return true;
    } catch (err) {
      if (generation === this.#generation) this.#setError(messageOf(err));
      return false;
    } finally {
      if (generation === this.#generation) {
        this.#pending = false;
        this.#listener.changed();
      }
    }
  }

  /**
   * Answers one of the agent's permission prompts (exactly once: an answer that lost to another
   * tab, the admin or the timeout shows the server's refusal, and the prompt leaves).
   */
  async answer(id: string, decision: "allow" | "deny", remember = false): Promise<void> {
    if (this.#answering.has(id)) return;
    const generation = this.#generation;
    this.#answering.add(id);
    this.#setError(null);
    this.#listener.approvalsChanged?.();
    try {
      const row = await this.#api.call("approval.respond", {
        id,
        decision,
        answered_by: "widget",
        ...(remember ? { remember: "session" as const } : {}),
      });
      if (generation !== this.#generation) return;
      this.#setApprovals((p) => p.apply([row]));
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#setError(`Cannot answer: ${messageOf(err)}`);
      if (err instanceof RpcError && err.reason === "invalid_state") {
        this.#setApprovals((p) => p.reset(p.list.filter((a) => a.id !== id)));
      }
      this.#listener.changed();
    } finally {
      this.#answering.delete(id);
      if (generation === this.#generation) this.#listener.approvalsChanged?.();
    }
  }

  /** Cancels the running agent. */
  async cancel(): Promise<void> {
    const agent = this.#agent;
    if (!agent || !ACTIVE.has(agent.status)) return;
    const generation = this.#generation;
    this.#cancelling = true;
    this.#listener.changed();
    try {
      const cancelled = await this.#api.call("agent.cancel", { id: agent.id });
      if (generation !== this.#generation) return;
      if (this.#agent?.id === cancelled.id && cancelled.updated_at >= this.#agent.updated_at) {
        this.#setAgent(cancelled);
      }
    } catch (err) {
      if (generation === this.#generation) this.#setError(messageOf(err));
    } finally {
      this.#cancelling = false;
      if (generation === this.#generation) this.#listener.changed();
    }
  }
}

/** A readable message for any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
