/**
 * `<hero-agent-widget home-mcp="hero_books">`: the orchestrator's agent composer for another Hero
 * service's navbar. A launcher button opens a panel with the composer (prompt, model, effort), the
 * working header while the agent runs (status, elapsed, cost, cancel), the streamed transcript, and
 * the follow-up row once it finished (same agent, same claude session). A speech-bubble control in
 * each of the three starts the spoken conversation ({@linkcode VoiceLoop}).
 *
 * `home-mcp` is required and must be a canonical service name; a missing or invalid value shows an
 * inline error and nothing is requested. Per-tab state is in sessionStorage under the service name.
 * @module
 */
import {
  type Agent,
  type Effort,
  EFFORTS,
  type MessageEventData,
  type MessagePage,
  type SystemHealth,
  type SystemInfo,
} from "@hero/sdk";
import { type BatchCall, RpcError, WidgetApi } from "./api.ts";
import { isHomeMcp, voiceBaseOverride, type WidgetBases } from "./base.ts";
import { type Item, itemsOf } from "./lines.ts";
import { emptyState, loadState, saveState, type SessionState } from "./session.ts";
import { WIDGET_CSS } from "./styles.ts";
import { loadVoice } from "./voice_adapter.ts";
import { VoiceLoop, type VoiceState } from "./voice_loop.ts";

const ACTIVE = new Set<string>(["queued", "running"]);
const FOLLOWABLE = new Set<string>(["awaiting_review", "failed"]);
const STATUS_LABEL: Record<string, string> = {
  queued: "Queued",
  running: "Working",
  awaiting_review: "Done",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};
const VOICE_TITLE: Record<VoiceState, string> = {
  off: "Talk with the agent: listens, sends what you said, reads the answer aloud",
  loading: "Loading voice…",
  listening: "Listening… tap to stop",
  sending: "Sending what you said… tap to stop",
  waiting: "Waiting for the agent… tap to stop talking",
  speaking: "Reading the answer… tap to interrupt",
  unavailable: "Voice is unavailable",
};
/** A speech bubble (deliberately not a microphone: it starts a conversation, not a recording). */
const BUBBLE_PATHS = [
  "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4A1.5 1.5 0 0 1 4 14.5z",
  "M8.5 9.5h7M8.5 12.5h4",
];
const SVG_NS = "http://www.w3.org/2000/svg";

function bubbleIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const d of BUBBLE_PATHS) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
/** Pages of `agent.messages` read when restoring a transcript (500 lines each). */
const MAX_RESTORE_PAGES = 20;

let sheet: CSSStyleSheet | null = null;

function styleSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
  }
  return sheet;
}

type Attrs = Record<string, string | boolean | undefined>;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children);
  return el;
}

function sessionStore(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function formatCost(usd: number): string {
  return `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Elements {
  launcher: HTMLButtonElement;
  launcherDot: HTMLSpanElement;
  panel: HTMLElement;
  working: HTMLElement;
  workingStatus: HTMLSpanElement;
  workingMeta: HTMLSpanElement;
  cancel: HTMLButtonElement;
  transcript: HTMLElement;
  error: HTMLParagraphElement;
  voiceLine: HTMLParagraphElement;
  composer: HTMLFormElement;
  prompt: HTMLTextAreaElement;
  model: HTMLSelectElement;
  effort: HTMLSelectElement;
  run: HTMLButtonElement;
  followup: HTMLFormElement;
  summary: HTMLElement;
  summaryStatus: HTMLSpanElement;
  summaryMeta: HTMLSpanElement;
  followPrompt: HTMLTextAreaElement;
  send: HTMLButtonElement;
  voices: HTMLButtonElement[];
}

/** The custom element. {@linkcode HeroAgentWidget.bases} is set once by the entry script. */
export class HeroAgentWidget extends HTMLElement {
  static observedAttributes = ["home-mcp", "voice-base"];
  /** Where this script came from; null when it cannot tell (then the widget refuses to work). */
  static bases: WidgetBases | null = null;

  #root: ShadowRoot;
  #homeMcp = "";
  #api: WidgetApi | null = null;
  #state: SessionState = emptyState();
  #agent: Agent | null = null;
  #els: Elements | null = null;
  #items: Array<{ item: Item; node: HTMLElement }> = [];
  #lastSeq = 0;
  #closeStream: (() => void) | null = null;
  #ticker: ReturnType<typeof setInterval> | null = null;
  #info: SystemInfo | null = null;
  #infoRequested = false;
  #pending = false;
  #voice: VoiceLoop | null = null;
  /** Bumped whenever the widget is re-initialised, so stale async work is dropped. */
  #generation = 0;
  #connected = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#root.adoptedStyleSheets = [styleSheet()];
  }

  connectedCallback(): void {
    this.#connected = true;
    this.#init();
  }

  disconnectedCallback(): void {
    this.#connected = false;
    this.#teardown();
  }

  attributeChangedCallback(_name: string, before: string | null, after: string | null): void {
    // During an upgrade this runs before connectedCallback, which initialises anyway.
    if (before !== after && this.#connected) this.#init();
  }

  #teardown(): void {
    this.#generation++;
    this.#closeStream?.();
    this.#closeStream = null;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
    this.#voice?.stop();
    this.#voice = null;
  }

  #init(): void {
    this.#teardown();
    this.#agent = null;
    this.#items = [];
    this.#lastSeq = 0;
    this.#info = null;
    this.#infoRequested = false;
    this.#pending = false;
    const bases = HeroAgentWidget.bases;
    const homeMcp = this.getAttribute("home-mcp");
    if (!bases) {
      return this.#invalid(
        "hero-agent-widget: load it from the orchestrator admin's …/widget/hero-agent-widget.js on this origin",
      );
    }
    if (homeMcp === null || !isHomeMcp(homeMcp)) {
      return this.#invalid(
        homeMcp === null
          ? 'hero-agent-widget: the home-mcp attribute is required (a Hero service name such as "hero_books")'
          : `hero-agent-widget: home-mcp "${
            homeMcp.slice(0, 80)
          }" is not a Hero service name (^hero_[a-z0-9_]+$)`,
      );
    }
    this.#homeMcp = homeMcp;
    this.#api = new WidgetApi(bases.admin);
    const voiceBase = voiceBaseOverride(this.getAttribute("voice-base")) ?? bases.voice;
    this.#voice = new VoiceLoop({
      submitSpoken: (text) => this.#submit(text, true),
      busy: () => this.#pending || (this.#agent !== null && ACTIVE.has(this.#agent.status)),
      onState: (state, detail) => this.#renderVoice(state, detail),
      onPartial: (text) => this.#showVoiceLine(text ? `“${text}”` : ""),
    }, () => loadVoice(voiceBase));
    this.#state = loadState(sessionStore(), homeMcp);
    this.#build();
    this.#renderVoice("off", null);
    this.#setOpen(this.#state.open, false);
    if (this.#state.agentId) void this.#attach(this.#state.agentId);
    else this.#render();
  }

  #invalid(message: string): void {
    this.#els = null;
    this.dataset.state = "invalid";
    this.#root.replaceChildren(h("p", { class: "invalid", role: "alert" }, message));
  }

  #save(): void {
    saveState(sessionStore(), this.#homeMcp, this.#state);
  }

  // ---- DOM ----

  #voiceButton(): HTMLButtonElement {
    const button = h(
      "button",
      { type: "button", class: "voice", "data-voice": "off" },
      bubbleIcon(),
    );
    button.addEventListener("click", () => void this.#voice?.toggle());
    return button;
  }

  #build(): void {
    const launcherDot = h("span", { class: "dot" });
    const launcher = h(
      "button",
      { type: "button", class: "launcher", "aria-expanded": "false", part: "launcher" },
      launcherDot,
      h("span", {}, "Agent"),
    );
    const workingStatus = h("span", { class: "status" });
    const workingMeta = h("span", { class: "meta" });
    const cancel = h("button", { type: "button", class: "danger cancel" }, "Cancel");
    const workingVoice = this.#voiceButton();
    const working = h(
      "div",
      { class: "working", hidden: true },
      h("span", { class: "dot" }),
      workingStatus,
      workingMeta,
      workingVoice,
      cancel,
    );
    const transcript = h("div", { class: "transcript", role: "log", "aria-live": "polite" });
    const error = h("p", { class: "error-line", role: "alert", hidden: true });
    const voiceLine = h("p", { class: "voice-line", hidden: true });

    const prompt = h("textarea", {
      name: "prompt",
      rows: "3",
      placeholder: `Ask an agent (with ${this.#homeMcp})…`,
      "aria-label": "Prompt",
    });
    const model = h(
      "select",
      { name: "model", "aria-label": "Model" },
      h("option", { value: "" }, "default model"),
    );
    const effort = h(
      "select",
      { name: "effort", "aria-label": "Effort" },
      h("option", { value: "" }, "default effort"),
      ...EFFORTS.map((e) => h("option", { value: e }, e)),
    );
    const run = h("button", { type: "submit", class: "primary run" }, "Run");
    const composerVoice = this.#voiceButton();
    const composer = h(
      "form",
      { class: "composer" },
      prompt,
      h("div", { class: "row" }, model, effort, h("span", { class: "grow" }), composerVoice, run),
    );

    const summaryStatus = h("span", { class: "status" });
    const summaryMeta = h("span", { class: "meta" });
    const followPrompt = h("textarea", {
      name: "follow_up",
      rows: "2",
      placeholder: "Follow up…",
      "aria-label": "Follow-up prompt",
    });
    const send = h("button", { type: "submit", class: "primary send" }, "Send");
    const fresh = h("button", { type: "button", class: "new" }, "New");
    const followVoice = this.#voiceButton();
    const summary = h(
      "div",
      { class: "summary", hidden: true },
      h("span", { class: "dot" }),
      summaryStatus,
      summaryMeta,
    );
    const followup = h(
      "form",
      { class: "followup", hidden: true },
      followPrompt,
      h("div", { class: "row" }, fresh, h("span", { class: "grow" }), followVoice, send),
    );

    const close = h("button", { type: "button", class: "close", "aria-label": "Close" }, "×");
    const panel = h(
      "section",
      { class: "panel", hidden: true, role: "dialog", "aria-label": `Agent for ${this.#homeMcp}` },
      h("div", { class: "head" }, h("span", { class: "title" }, `Agent · ${this.#homeMcp}`), close),
      working,
      transcript,
      summary,
      error,
      voiceLine,
      composer,
      followup,
    );
    this.#root.replaceChildren(h("div", { class: "widget" }, launcher, panel));
    this.#els = {
      launcher,
      launcherDot,
      panel,
      working,
      workingStatus,
      workingMeta,
      cancel,
      transcript,
      error,
      voiceLine,
      composer,
      prompt,
      model,
      effort,
      run,
      followup,
      summary,
      summaryStatus,
      summaryMeta,
      followPrompt,
      send,
      voices: [composerVoice, workingVoice, followVoice],
    };

    prompt.value = this.#state.draft;
    followPrompt.value = this.#state.followDraft;
    launcher.addEventListener("click", () => this.#setOpen(!this.#state.open));
    close.addEventListener("click", () => this.#setOpen(false));
    panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.#setOpen(false);
    });
    prompt.addEventListener("input", () => {
      this.#state.draft = prompt.value;
      this.#save();
    });
    followPrompt.addEventListener("input", () => {
      this.#state.followDraft = followPrompt.value;
      this.#save();
    });
    for (const [area, form] of [[prompt, composer], [followPrompt, followup]] as const) {
      area.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          form.requestSubmit();
        }
      });
    }
    model.addEventListener("change", () => {
      this.#state.model = model.value || null;
      this.#save();
    });
    effort.addEventListener("change", () => {
      this.#state.effort = effort.value || null;
      this.#save();
    });
    composer.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.#submit(prompt.value, false);
    });
    followup.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.#submit(followPrompt.value, false);
    });
    cancel.addEventListener("click", () => void this.#cancel());
    fresh.addEventListener("click", () => this.#newConversation());
    this.#applySelection();
  }

  #setOpen(open: boolean, persist = true): void {
    const els = this.#els;
    if (!els) return;
    this.#state.open = open;
    if (persist) this.#save();
    els.panel.hidden = !open;
    els.launcher.setAttribute("aria-expanded", String(open));
    this.dataset.open = String(open);
    if (open) {
      this.#ensureInfo();
      const focus = this.#agent && FOLLOWABLE.has(this.#agent.status)
        ? els.followPrompt
        : els.prompt;
      if (!focus.closest("[hidden]")) queueMicrotask(() => focus.focus());
    }
  }

  #applySelection(): void {
    const els = this.#els!;
    const info = this.#info;
    if (info) {
      els.model.replaceChildren(
        ...info.claude.models.map((m) =>
          h("option", { value: m }, m === info.claude.default_model ? `${m} (default)` : m)
        ),
      );
      els.model.value = this.#state.model && info.claude.models.includes(this.#state.model)
        ? this.#state.model
        : info.claude.default_model;
    }
    const effort = this.#state.effort ?? info?.claude.default_effort ?? "";
    els.effort.value = EFFORTS.includes(effort as Effort) ? effort : "";
  }

  #ensureInfo(): void {
    if (this.#infoRequested || !this.#api) return;
    this.#infoRequested = true;
    const generation = this.#generation;
    this.#api.call("system.info", {}).then((info) => {
      if (generation !== this.#generation) return;
      this.#info = info;
      this.#applySelection();
    }, () => {
      // The server applies its defaults; the selects keep "default".
    });
  }

  #showError(message: string | null): void {
    const els = this.#els;
    if (!els) return;
    els.error.textContent = message ?? "";
    els.error.hidden = message === null;
  }

  #showVoiceLine(text: string): void {
    const els = this.#els;
    if (!els) return;
    els.voiceLine.textContent = text;
    els.voiceLine.hidden = text === "";
  }

  #renderVoice(state: VoiceState, detail: string | null): void {
    const els = this.#els;
    if (!els) return;
    this.dataset.voice = state;
    for (const button of els.voices) {
      button.dataset.voice = state;
      button.disabled = state === "unavailable" || state === "loading";
      const title = state === "unavailable" && detail
        ? `Voice is unavailable: ${detail}. Text chat works as usual.`
        : VOICE_TITLE[state];
      button.title = title;
      button.setAttribute("aria-label", title);
      button.setAttribute("aria-pressed", String(state !== "off" && state !== "unavailable"));
    }
    if (state === "listening") this.#showVoiceLine("Listening…");
    else if (state === "off" && detail) this.#showVoiceLine(detail);
    else if (state !== "sending") this.#showVoiceLine("");
  }

  /** Shows the parts that fit the agent's status. */
  #render(): void {
    const els = this.#els;
    if (!els) return;
    const agent = this.#agent;
    const status = agent?.status ?? "none";
    const active = agent !== null && ACTIVE.has(status);
    const followable = agent !== null && FOLLOWABLE.has(status);
    this.dataset.status = status;
    this.dataset.state = active ? "working" : followable ? "followup" : "compose";
    els.launcher.dataset.status = status;
    els.working.dataset.status = status;
    els.summary.dataset.status = status;
    els.summary.hidden = agent === null || active;
    els.working.hidden = !active;
    els.followup.hidden = !followable;
    els.composer.hidden = active || followable;
    els.run.disabled = this.#pending;
    els.send.disabled = this.#pending;
    els.cancel.disabled = this.#pending || agent?.cancel_requested_at != null;
    if (agent) {
      const label = STATUS_LABEL[status] ?? status;
      els.workingStatus.textContent = label;
      els.summaryStatus.textContent = label;
      els.summaryMeta.textContent = `${agent.turn_count} turn${
        agent.turn_count === 1 ? "" : "s"
      } · ${formatCost(agent.total_cost_usd)}${
        status === "failed" && agent.error_message ? ` · ${agent.error_message}` : ""
      }`;
    }
    this.#tick();
    if (active && this.#ticker === null) this.#ticker = setInterval(() => this.#tick(), 1000);
    if (!active && this.#ticker !== null) {
      clearInterval(this.#ticker);
      this.#ticker = null;
    }
  }

  #tick(): void {
    const els = this.#els;
    const agent = this.#agent;
    if (!els || !agent || !ACTIVE.has(agent.status)) return;
    const since = this.#state.turnStartedAt ?? agent.started_at ?? agent.created_at;
    els.workingMeta.textContent = `${formatElapsed(Date.now() - since)} · ${
      formatCost(agent.total_cost_usd)
    }`;
  }

  // ---- transcript ----

  #resetTranscript(): void {
    this.#items = [];
    this.#lastSeq = 0;
    this.#els?.transcript.replaceChildren();
  }

  #itemNode(item: Item): HTMLElement {
    switch (item.kind) {
      case "user":
        return h("p", { class: `item user${item.voice ? " spoken" : ""}` }, item.text);
      case "text":
        return h("p", { class: "item text" }, item.text);
      case "tool":
        return h(
          "p",
          { class: "item tool" },
          "⚙ ",
          h("span", { class: "label" }, item.label),
          item.detail ? ` ${item.detail}` : "",
        );
      case "tool_result":
        return h(
          "p",
          { class: `item tool_result${item.isError ? " error" : ""}` },
          `↳ ${item.text}`,
        );
      case "error":
        return h("p", { class: "item error" }, item.text);
      case "notice":
        return h("p", { class: "item notice" }, item.text);
    }
  }

  /** Inserts an entry in seq order (entries of one seq keep their arrival order). */
  #addItem(item: Item): void {
    const els = this.#els;
    if (!els) return;
    const node = this.#itemNode(item);
    node.dataset.seq = String(item.seq);
    let at = this.#items.length;
    while (at > 0 && this.#items[at - 1]!.item.seq > item.seq) at--;
    const before = this.#items[at]?.node ?? null;
    this.#items.splice(at, 0, { item, node });
    const stick =
      els.transcript.scrollHeight - els.transcript.scrollTop - els.transcript.clientHeight < 40;
    els.transcript.insertBefore(node, before);
    if (stick) els.transcript.scrollTop = els.transcript.scrollHeight;
  }

  /** One stored line of the current agent (lines at or below the last seen seq are skipped). */
  #addLine(seq: number, raw: string | null, live: boolean): void {
    if (seq <= this.#lastSeq) return;
    this.#lastSeq = seq;
    for (const item of itemsOf(seq, raw)) {
      this.#addItem(item);
      if (live && item.kind === "text") this.#voice?.replyText(item.text);
    }
  }

  #showUserTurns(agent: Agent): void {
    this.#addItem({ kind: "user", seq: 0, text: agent.prompt, voice: this.#state.firstVoice });
    for (const turn of this.#state.turns) {
      this.#addItem({ kind: "user", seq: turn.afterSeq + 0.5, text: turn.text, voice: turn.voice });
    }
  }

  // ---- agent lifecycle ----

  #setAgent(agent: Agent): void {
    const was = this.#agent;
    this.#agent = agent;
    const active = ACTIVE.has(agent.status);
    if (!active && was !== null && ACTIVE.has(was.status)) {
      this.#closeStream?.();
      this.#closeStream = null;
      this.#state.turnStartedAt = null;
      this.#save();
      this.#voice?.replyDone();
    }
    this.#render();
  }

  #follow(agentId: string, afterEventId: number): void {
    this.#closeStream?.();
    const generation = this.#generation;
    this.#closeStream = this.#api!.stream(agentId, afterEventId, {
      onMessage: (m: MessageEventData) => {
        if (generation !== this.#generation || m.agent_id !== agentId) return;
        this.#addLine(m.seq, m.raw, true);
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
    const api = this.#api!;
    const generation = this.#generation;
    this.#pending = true;
    this.#render();
    try {
      const [health, agent] = await api.batch([
        { method: "system.health", params: {} },
        { method: "agent.get", params: { id: agentId } },
      ] as BatchCall[]);
      if (generation !== this.#generation) return;
      if (agent instanceof RpcError) {
        if (agent.reason === "not_found") {
          this.#forget();
          return;
        }
        throw agent;
      }
      if (health instanceof RpcError) throw health;
      const current = agent as Agent;
      this.#resetTranscript();
      this.#showUserTurns(current);
      let after = 0;
      for (let page = 0; page < MAX_RESTORE_PAGES; page++) {
        const batch: MessagePage = await api.call("agent.messages", {
          id: agentId,
          after_seq: after,
          limit: 500,
        });
        if (generation !== this.#generation) return;
        for (const m of batch.messages) this.#addLine(m.seq, m.raw, false);
        after = batch.next_seq;
        if (!batch.has_more || batch.messages.length === 0) break;
      }
      this.#agent = current;
      if (ACTIVE.has(current.status)) {
        this.#follow(agentId, (health as SystemHealth).checks.events.last_event_id);
      }
      this.#showError(null);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#showError(`Cannot restore the conversation: ${messageOf(err)}`);
    } finally {
      if (generation === this.#generation) {
        this.#pending = false;
        this.#render();
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
    this.#render();
  }

  #newConversation(): void {
    this.#voice?.stop();
    this.#forget();
    this.#showError(null);
    this.#els?.prompt.focus();
  }

  /** Sends a prompt: a follow-up of the current agent when it allows one, else a new agent. */
  async #submit(raw: string, voice: boolean): Promise<boolean> {
    const text = raw.trim();
    const api = this.#api;
    const els = this.#els;
    if (!api || !els || text === "" || this.#pending) return false;
    const agent = this.#agent;
    if (agent && ACTIVE.has(agent.status)) return false;
    const generation = this.#generation;
    this.#pending = true;
    this.#showError(null);
    this.#render();
    try {
      if (agent && FOLLOWABLE.has(agent.status)) {
        const health = await api.call("system.health", {});
        const next = await api.call("agent.follow_up", { id: agent.id, prompt: text, voice });
        if (generation !== this.#generation) return false;
        this.#state.turns.push({ afterSeq: next.last_seq, text, voice });
        if (!voice) {
          this.#state.followDraft = "";
          els.followPrompt.value = "";
        }
        this.#state.turnStartedAt = Date.now();
        this.#save();
        this.#addItem({ kind: "user", seq: next.last_seq + 0.5, text, voice });
        this.#agent = next;
        this.#follow(next.id, health.checks.events.last_event_id);
      } else {
        const created = await api.call("agent.create", {
          prompt: text,
          home_mcp: this.#homeMcp,
          voice,
          ...(els.model.value ? { model: els.model.value } : {}),
          ...(els.effort.value ? { effort: els.effort.value as Effort } : {}),
        });
        if (generation !== this.#generation) return false;
        this.#closeStream?.();
        this.#state.agentId = created.id;
        this.#state.turns = [];
        this.#state.firstVoice = voice;
        if (!voice) {
          this.#state.draft = "";
          els.prompt.value = "";
        }
        this.#state.turnStartedAt = Date.now();
        this.#save();
        this.#resetTranscript();
        this.#showUserTurns(created);
        this.#agent = created;
        // A new agent: its whole event history is what happened since it was created.
        this.#follow(created.id, 0);
      }
      return true;
    } catch (err) {
      if (generation === this.#generation) this.#showError(messageOf(err));
      return false;
    } finally {
      if (generation === this.#generation) {
        this.#pending = false;
        this.#render();
        if (!voice) {
          const next = this.#agent && FOLLOWABLE.has(this.#agent.status) ? els.followPrompt : null;
          next?.focus();
        }
      }
    }
  }

  async #cancel(): Promise<void> {
    const agent = this.#agent;
    if (!agent || !ACTIVE.has(agent.status) || !this.#api) return;
    const generation = this.#generation;
    this.#els!.cancel.disabled = true;
    try {
      const cancelled = await this.#api.call("agent.cancel", { id: agent.id });
      if (generation !== this.#generation) return;
      if (this.#agent?.id === cancelled.id && cancelled.updated_at >= this.#agent.updated_at) {
        this.#setAgent(cancelled);
      }
    } catch (err) {
      if (generation === this.#generation) this.#showError(messageOf(err));
    } finally {
      if (generation === this.#generation) this.#render();
    }
  }
}
