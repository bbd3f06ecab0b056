/**
 * `<hero-agent-widget home-mcp="hero_books">`: the orchestrator's agent composer for another Hero
 * service's navbar. A launcher button opens a panel with the composer (prompt, model, effort), the
 * working header while the agent runs (status, elapsed, cost, cancel), the streamed transcript, and
 * the follow-up row once it finished (same agent, same claude session). Text shows as the model
 * writes it; a permission prompt shows inline with Allow / Allow for session / Deny. A
 * speech-bubble control in each of the three starts the spoken conversation ({@linkcode VoiceLoop}).
 *
 * `home-mcp` is required and must be a canonical service name; a missing or invalid value shows an
 * inline error and nothing is requested. Per-tab state is in sessionStorage under the service name.
 * `permission-mode` (optional: bypassPermissions, acceptEdits, default, plan) is the mode the
 * widget's new agents run in; anything but bypass asks before tools run. Without it the server's
 * default applies (bypass).
 *
 * This element is the glue: the state machine is {@linkcode WidgetController}, the DOM is built
 * and updated by `view.ts`.
 * @module
 */
import { AGENT_PERMISSION_MODES, type AgentPermissionMode } from "@hero/sdk";
import { WidgetApi } from "./api.ts";
import { isHomeMcp, voiceBaseOverride, type WidgetBases } from "./base.ts";
import { type Choice, WidgetController } from "./controller.ts";
import {
  buildPanel,
  clearItems,
  type Elements,
  h,
  insertItem,
  renderApprovals,
  renderChoices,
  renderChrome,
  renderVoice,
  showLiveText,
  showVoiceLine,
  styleSheet,
  workingMeta,
} from "./view.ts";
import { loadVoice } from "./voice_adapter.ts";
import { VoiceLoop } from "./voice_loop.ts";

function sessionStore(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** The custom element. {@linkcode HeroAgentWidget.bases} is set once by the entry script. */
export class HeroAgentWidget extends HTMLElement {
  static observedAttributes = ["home-mcp", "voice-base", "permission-mode"];
  /** Where this script came from; null when it cannot tell (then the widget refuses to work). */
  static bases: WidgetBases | null = null;

  #root: ShadowRoot;
  #controller: WidgetController | null = null;
  #els: Elements | null = null;
  #ticker: ReturnType<typeof setInterval> | null = null;
  #voice: VoiceLoop | null = null;
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
    this.#controller?.stop();
    this.#controller = null;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
    this.#voice?.stop();
    this.#voice = null;
  }

  #init(): void {
    this.#teardown();
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
    const mode = this.getAttribute("permission-mode");
    if (mode !== null && !AGENT_PERMISSION_MODES.includes(mode as AgentPermissionMode)) {
      return this.#invalid(
        `hero-agent-widget: permission-mode "${mode.slice(0, 40)}" is not one of ${
          AGENT_PERMISSION_MODES.join(", ")
        }`,
      );
    }
    const els = buildPanel(homeMcp);
    this.#els = els;
    const controller = new WidgetController({
      homeMcp,
      api: new WidgetApi(bases.admin),
      storage: sessionStore(),
      permissionMode: mode as AgentPermissionMode | null,
      listener: {
        changed: () => this.#render(),
        infoLoaded: () => renderChoices(els, controller),
        inserted: (item, index) => insertItem(els, item, index),
        cleared: () => clearItems(els),
        reply: (text) => this.#voice?.replyText(text),
        replyDone: () => this.#voice?.replyDone(),
        liveText: (text) => showLiveText(els, text),
        approvalsChanged: () => {
          renderApprovals(els, controller);
          renderChrome(this, els, controller);
        },
      },
    });
    this.#controller = controller;
    const voiceBase = voiceBaseOverride(this.getAttribute("voice-base")) ?? bases.voice;
    this.#voice = new VoiceLoop({
      submitSpoken: (text) => controller.submit(text, true, this.#choice()),
      busy: () => controller.busy,
      onState: (state, detail) => renderVoice(this, els, state, detail),
      onPartial: (text) => showVoiceLine(els, text ? `“${text}”` : ""),
    }, () => loadVoice(voiceBase));
    this.#wire(els, controller);
    this.#root.replaceChildren(els.root);
    renderVoice(this, els, "off", null);
    this.#setOpen(controller.state.open, false);
    controller.start();
  }

  #invalid(message: string): void {
    this.#els = null;
    this.dataset.state = "invalid";
    this.#root.replaceChildren(h("p", { class: "invalid", role: "alert" }, message));
  }

  #choice(): Choice {
    return { model: this.#els?.model.value ?? "", effort: this.#els?.effort.value ?? "" };
  }

  #wire(els: Elements, c: WidgetController): void {
    els.prompt.value = c.state.draft;
    els.followPrompt.value = c.state.followDraft;
    els.launcher.addEventListener("click", () => this.#setOpen(!c.state.open));
    els.close.addEventListener("click", () => this.#setOpen(false));
    els.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.#setOpen(false);
    });
    els.prompt.addEventListener("input", () => c.setDraft(els.prompt.value));
    els.followPrompt.addEventListener("input", () => c.setFollowDraft(els.followPrompt.value));
    const forms = [[els.prompt, els.composer], [els.followPrompt, els.followup]] as const;
    for (const [area, form] of forms) {
      area.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          form.requestSubmit();
        }
      });
    }
    els.model.addEventListener("change", () => c.choose({ model: els.model.value }));
    els.effort.addEventListener("change", () => c.choose({ effort: els.effort.value }));
    els.composer.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.#submitTyped(c, els.prompt);
    });
    els.followup.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.#submitTyped(c, els.followPrompt);
    });
    els.cancel.addEventListener("click", () => void c.cancel());
    els.approvals.addEventListener("click", (e) => {
      const button = (e.target as Element).closest("button[data-approval]");
      if (!(button instanceof HTMLButtonElement) || button.disabled) return;
      const decision = button.dataset.decision;
      void c.answer(
        button.dataset.approval!,
        decision === "deny" ? "deny" : "allow",
        decision === "session",
      );
    });
    els.fresh.addEventListener("click", () => {
      this.#voice?.stop();
      c.newConversation();
      els.prompt.focus();
    });
    for (const button of els.voices) {
      button.addEventListener("click", () => void this.#voice?.toggle());
    }
    renderChoices(els, c);
  }

  /** A typed prompt: sent drafts are cleared, and the follow-up field gets the focus. */
  async #submitTyped(c: WidgetController, field: HTMLTextAreaElement): Promise<void> {
    const sent = await c.submit(field.value, false, this.#choice());
    if (c !== this.#controller) return;
    if (sent) field.value = "";
    if (c.mode === "followup") this.#els?.followPrompt.focus();
  }

  #setOpen(open: boolean, persist = true): void {
    const els = this.#els;
    const c = this.#controller;
    if (!els || !c) return;
    c.setOpen(open, persist);
    els.panel.hidden = !open;
    els.launcher.setAttribute("aria-expanded", String(open));
    this.dataset.open = String(open);
    if (open) {
      const focus = c.mode === "followup" ? els.followPrompt : els.prompt;
      if (!focus.closest("[hidden]")) queueMicrotask(() => focus.focus());
    }
  }

  #render(): void {
    const els = this.#els;
    const c = this.#controller;
    if (!els || !c) return;
    renderChrome(this, els, c);
    this.#tick();
    const working = c.mode === "working";
    if (working && this.#ticker === null) this.#ticker = setInterval(() => this.#tick(), 1000);
    if (!working && this.#ticker !== null) {
      clearInterval(this.#ticker);
      this.#ticker = null;
    }
  }

  #tick(): void {
    const since = this.#controller?.turnStartedAt;
    const agent = this.#controller?.agent;
    if (!this.#els || since == null || !agent) return;
    this.#els.workingMeta.textContent = workingMeta(Date.now() - since, agent.total_cost_usd);
  }
}
