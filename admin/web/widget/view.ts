/**
 * The widget's DOM: builders for the panel and transcript items, and the functions that show a
 * {@linkcode WidgetController}'s state in them. No state of its own; cost and elapsed time are
 * formatted like the dashboard's (`lib/format.ts`).
 * @module
 */
import { EFFORTS } from "@hero/sdk";
import { formatCost, formatDuration } from "../lib/format.ts";
import type { WidgetController } from "./controller.ts";
import { type Item, toolDetail, toolLabel } from "./lines.ts";
import { WIDGET_CSS } from "./styles.ts";
import type { VoiceState } from "./voice_loop.ts";

const STATUS_LABEL: Record<string, string> = {
  queued: "Queued",
  running: "Working",
  paused: "Paused",
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

let sheet: CSSStyleSheet | null = null;

/** The widget's stylesheet, shared by every instance. */
export function styleSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
  }
  return sheet;
}

type Attrs = Record<string, string | boolean | undefined>;

/** `document.createElement` with attributes (false/undefined left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
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

function voiceButton(): HTMLButtonElement {
  return h("button", { type: "button", class: "voice", "data-voice": "off" }, bubbleIcon());
}

/** The panel's elements the element wires up and the render functions update. */
export interface Elements {
  root: HTMLDivElement;
  launcher: HTMLButtonElement;
  panel: HTMLElement;
  close: HTMLButtonElement;
  working: HTMLElement;
  workingStatus: HTMLSpanElement;
  workingMeta: HTMLSpanElement;
  cancel: HTMLButtonElement;
  transcript: HTMLElement;
  /** One node per controller item, same order. */
  nodes: HTMLElement[];
  /** The text being written, under the transcript until its line is stored. */
  live: HTMLParagraphElement;
  /** The permission prompts waiting for an answer. */
  approvals: HTMLElement;
  error: HTMLParagraphElement;
  voiceLine: HTMLParagraphElement;
  composer: HTMLFormElement;
  prompt: HTMLTextAreaElement;
  model: HTMLSelectElement;
  effort: HTMLSelectElement;
  run: HTMLButtonElement;
  followup: HTMLFormElement;
  fresh: HTMLButtonElement;
  summary: HTMLElement;
  summaryStatus: HTMLSpanElement;
  summaryMeta: HTMLSpanElement;
  /** What a person can do about a failure (`error_fix`). */
  fix: HTMLParagraphElement;
  followPrompt: HTMLTextAreaElement;
  send: HTMLButtonElement;
  voices: HTMLButtonElement[];
}

/** Builds the launcher and the (hidden) panel for `homeMcp`. */
export function buildPanel(homeMcp: string): Elements {
  const launcher = h(
    "button",
    { type: "button", class: "launcher", "aria-expanded": "false", part: "launcher" },
    h("span", { class: "dot" }),
    h("span", {}, "Agent"),
  );
  const workingStatus = h("span", { class: "status" });
  const workingMeta = h("span", { class: "meta" });
  const cancel = h("button", { type: "button", class: "danger cancel" }, "Cancel");
  const workingVoice = voiceButton();
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
  const live = h("p", { class: "live-text", "aria-live": "off", hidden: true });
  const approvals = h("div", {
    class: "approvals",
    role: "group",
    "aria-label": "Waiting for you",
  });
  const error = h("p", { class: "error-line", role: "alert", hidden: true });
  const voiceLine = h("p", { class: "voice-line", hidden: true });
  const fix = h("p", { class: "fix-line", hidden: true });

  const prompt = h("textarea", {
    name: "prompt",
    rows: "3",
    placeholder: `Ask an agent (with ${homeMcp})…`,
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
  const composerVoice = voiceButton();
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
  const followVoice = voiceButton();
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
    { class: "panel", hidden: true, role: "dialog", "aria-label": `Agent for ${homeMcp}` },
    h("div", { class: "head" }, h("span", { class: "title" }, `Agent · ${homeMcp}`), close),
    working,
    transcript,
    live,
    approvals,
    summary,
    fix,
    error,
    voiceLine,
    composer,
    followup,
  );
  return {
    root: h("div", { class: "widget" }, launcher, panel),
    launcher,
    panel,
    close,
    working,
    workingStatus,
    workingMeta,
    cancel,
    transcript,
    nodes: [],
    live,
    approvals,
    error,
    voiceLine,
    composer,
    prompt,
    model,
    effort,
    run,
    followup,
    fresh,
    summary,
    summaryStatus,
    summaryMeta,
    fix,
    followPrompt,
    send,
    voices: [composerVoice, workingVoice, followVoice],
  };
}

/** The node of one transcript item. */
export function itemNode(item: Item): HTMLElement {
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

/** Shows `item` at `index`, keeping the transcript scrolled to the end when it was there. */
export function insertItem(els: Elements, item: Item, index: number): void {
  const node = itemNode(item);
  node.dataset.seq = String(item.seq);
  const before = els.nodes[index] ?? null;
  els.nodes.splice(index, 0, node);
  const box = els.transcript;
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.insertBefore(node, before);
  if (stick) box.scrollTop = box.scrollHeight;
}

/** Shows the text being written ("" hides it), keeping the transcript's end in view. */
export function showLiveText(els: Elements, text: string): void {
  els.live.textContent = text;
  els.live.hidden = text === "";
  els.live.scrollTop = els.live.scrollHeight;
}

/** What an approval asks, in a line: `Write /tmp/x`, `Bash ls -la`. */
function approvalInput(input: Record<string, unknown>): string {
  const detail = toolDetail(input);
  if (detail) return detail;
  const json = JSON.stringify(input);
  return json === "{}" ? "" : json.length > 300 ? `${json.slice(0, 299)}…` : json;
}

/**
 * Shows the agent's pending permission prompts with Allow, Allow for session (when claude
 * suggested rules to add) and Deny; a button carries `data-approval` and `data-decision`.
 */
export function renderApprovals(els: Elements, c: WidgetController): void {
  els.approvals.replaceChildren(...c.approvals.map((a) => {
    const busy = c.answering(a.id);
    const button = (decision: string, label: string, cls = "") =>
      h("button", {
        type: "button",
        class: cls || undefined,
        "data-approval": a.id,
        "data-decision": decision,
        disabled: busy,
      }, label);
    const input = approvalInput(a.input);
    return h(
      "article",
      { class: "approval", "data-approval": a.id },
      h("span", { class: "ask" }, `Allow ${toolLabel(a.tool_name)}?`),
      a.description ? h("span", { class: "note" }, a.description.slice(0, 300)) : "",
      input ? h("code", {}, input) : "",
      h(
        "div",
        { class: "row" },
        button("allow", "Allow", "primary"),
        a.permission_suggestions.length > 0 ? button("session", "Allow for session") : "",
        h("span", { class: "grow" }),
        button("deny", "Deny", "danger"),
      ),
    );
  }));
}

/** Empties the transcript. */
export function clearItems(els: Elements): void {
  els.nodes = [];
  els.transcript.replaceChildren();
}

/** The working header's `elapsed · cost`. */
export function workingMeta(elapsedMs: number, costUsd: number): string {
  return `${formatDuration(elapsedMs)} · ${formatCost(costUsd)}`;
}

/** Shows the parts that fit the controller's mode, status and pending work. */
export function renderChrome(host: HTMLElement, els: Elements, c: WidgetController): void {
  const agent = c.agent;
  const status = c.status;
  const mode = c.mode;
  host.dataset.status = status;
  host.dataset.state = mode;
  els.launcher.dataset.status = status;
  els.working.dataset.status = status;
  els.summary.dataset.status = status;
  els.summary.hidden = agent === null || mode === "working";
  els.working.hidden = mode !== "working";
  els.followup.hidden = mode !== "followup";
  els.composer.hidden = mode !== "compose";
  els.run.disabled = c.pending;
  els.send.disabled = c.pending;
  els.cancel.disabled = c.pending || c.cancelling || agent?.cancel_requested_at != null;
  els.error.textContent = c.error ?? "";
  els.error.hidden = c.error === null;
  if (agent) {
    const label = STATUS_LABEL[status] ?? status;
    // A permission prompt holds the turn: say so where the person looks first.
    els.workingStatus.textContent = mode === "working" && c.approvals.length > 0
      ? "Needs you"
      : label;
    els.summaryStatus.textContent = label;
    els.summaryMeta.textContent = `${agent.turn_count} turn${agent.turn_count === 1 ? "" : "s"} · ${
      formatCost(agent.total_cost_usd)
    }${status === "failed" && agent.error_message ? ` · ${agent.error_message}` : ""}`;
  }
  const fix = agent?.status === "failed" && mode !== "working" ? agent.error_fix : null;
  els.fix.textContent = fix ? `Fix: ${fix}` : "";
  els.fix.hidden = !fix;
}

/** Fills in the model choices (once `system.info` is known) and preselects model and effort. */
export function renderChoices(els: Elements, c: WidgetController): void {
  const info = c.info;
  if (info) {
    els.model.replaceChildren(
      ...info.claude.models.map((m) =>
        h("option", { value: m }, m === info.claude.default_model ? `${m} (default)` : m)
      ),
    );
    els.model.value = c.model ?? "";
  }
  els.effort.value = c.effort;
}

/** The voice line under the transcript ("" hides it). */
export function showVoiceLine(els: Elements, text: string): void {
  els.voiceLine.textContent = text;
  els.voiceLine.hidden = text === "";
}

/** Shows the voice loop's state on the three speech-bubble buttons and the voice line. */
export function renderVoice(
  host: HTMLElement,
  els: Elements,
  state: VoiceState,
  detail: string | null,
): void {
  host.dataset.voice = state;
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
  if (state === "listening") showVoiceLine(els, "Listening…");
  else if (state === "off" && detail) showVoiceLine(els, detail);
  else if (state !== "sending") showVoiceLine(els, "");
}
