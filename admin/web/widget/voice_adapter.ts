/**
 * THE adapter between the widget and hero_voice. hero_voice's browser API is not public, so every
 * assumption about it lives in this one file: when hero_voice changes, only this file changes.
 *
 * # What the widget needs ({@linkcode VoiceAdapter})
 * - `listen()`: record the microphone until hero_voice's server-side endpointing detects a natural
 *   pause, and resolve with the transcript (`""` when nothing was said).
 * - `synthesize(text)`: one sentence as audio.
 * - `play(audio)`: play it; resolve when it ended or was stopped.
 *
 * # What this file expects of hero_voice (all on the page's origin, through hero_router)
 * - `<voice>/admin/voice-widget/components.js` ({@linkcode COMPONENTS_PATH}), a module script that
 *   sets `globalThis.HeroVoiceComponents` ({@linkcode HeroVoiceComponents}):
 *   - `createStreamingRecorder({ url, onPartial?, onFinal, onError? })` → `{ start(), stop() }`:
 *     streams the microphone to the transcribe WebSocket `url`; hero_voice ends the utterance
 *     (endpointing) and calls `onFinal(text)` once, after which the recorder has stopped itself.
 *   - `createPlayer()` → `{ play(audio: Blob), stop() }`: `play` resolves when playback ended,
 *     or was stopped.
 * - the transcribe WebSocket at `<voice>/admin/voice-widget/transcribe` ({@linkcode TRANSCRIBE_PATH}).
 * - JSON-RPC `voiceservice.synthesize_speech {text, format: "wav"}` at `<voice>/rpc/rpc`
 *   ({@linkcode RPC_PATH}), answering `{audio: <base64>, mime_type?}` (`audio_base64` and
 *   `format` are read too).
 *
 * `<voice>` is hero_voice's router mount (`/hero_voice`, next to `/hero_orchestrator`).
 *
 * # Loading
 * components.js is loaded lazily (first activation), once per page for every widget instance:
 * when `globalThis.HeroVoiceComponents` is already there (e.g. `<hero-voice-bar>` loaded it) it
 * is reused; when a `<script>` for it is already in the document, its load is awaited; otherwise
 * one `<script type="module">` is injected. The outcome (adapter or reason) is kept on
 * `globalThis` under a registered symbol, so even two copies of the widget script share it.
 * @module
 */
import { RpcClient } from "@hero/sdk";

/** hero_voice's components, as this adapter expects them (see the module doc). */
export interface HeroVoiceComponents {
  createStreamingRecorder(options: {
    url: string;
    onPartial?: (text: string) => void;
    onFinal: (text: string) => void;
    onError?: (error: unknown) => void;
  }): { start(): Promise<void> | void; stop(): void };
  createPlayer(): { play(audio: Blob): Promise<void>; stop(): void };
}

/** What the widget uses. */
export interface VoiceAdapter {
  /** Records one utterance; resolves with its transcript (`""` when aborted or silent). */
  listen(options: { signal: AbortSignal; onPartial?: (text: string) => void }): Promise<string>;
  /** One sentence as audio. */
  synthesize(text: string, signal: AbortSignal): Promise<Blob>;
  /** Plays audio; resolves when it ended or the signal stopped it. */
  play(audio: Blob, signal: AbortSignal): Promise<void>;
}

/** The outcome of loading hero_voice. */
export type VoiceAvailability =
  | { ok: true; adapter: VoiceAdapter }
  | { ok: false; reason: string };

export const COMPONENTS_PATH = "/admin/voice-widget/components.js";
export const TRANSCRIBE_PATH = "/admin/voice-widget/transcribe";
export const RPC_PATH = "/rpc/rpc";
const SYNTHESIZE_METHOD = "voiceservice.synthesize_speech";

/** The part of hero_voice's JSON-RPC API the widget calls. */
interface VoiceMethods {
  "voiceservice.synthesize_speech": {
    params: { text: string; format: "wav" };
    result: Record<string, unknown> | null;
  };
}
const GLOBAL_NAME = "HeroVoiceComponents";
const SHARED = Symbol.for("hero-agent-widget.voice");

function componentsOf(): HeroVoiceComponents | null {
  const value = (globalThis as Record<string, unknown>)[GLOBAL_NAME] as
    | Partial<HeroVoiceComponents>
    | undefined;
  return value && typeof value.createStreamingRecorder === "function" &&
      typeof value.createPlayer === "function"
    ? value as HeroVoiceComponents
    : null;
}

function existingScript(src: string): HTMLScriptElement | null {
  for (const script of Array.from(document.scripts)) {
    if (script.src && new URL(script.src, location.href).href === src) return script;
  }
  return null;
}

/** Waits for a script element's load (or error); already-run scripts resolve at once. */
function scriptLoaded(script: HTMLScriptElement): Promise<boolean> {
  return new Promise((resolve) => {
    if (componentsOf()) return resolve(true);
    script.addEventListener("load", () => resolve(true), { once: true });
    script.addEventListener("error", () => resolve(false), { once: true });
    // A script that ran before we looked (and did not define the global) never fires again.
    setTimeout(() => resolve(componentsOf() !== null), 10_000);
  });
}

async function loadComponents(voiceBase: string): Promise<HeroVoiceComponents | string> {
  const src = new URL(`${voiceBase}${COMPONENTS_PATH}`, location.href).href;
  const already = componentsOf();
  if (already) return already;
  let script = existingScript(src);
  if (!script) {
    script = document.createElement("script");
    script.type = "module";
    script.src = src;
    script.dataset.heroAgentWidget = "voice";
    document.head.append(script);
  }
  const ok = await scriptLoaded(script);
  const components = componentsOf();
  if (components) return components;
  return ok
    ? `hero_voice's ${COMPONENTS_PATH} does not provide ${GLOBAL_NAME} (createStreamingRecorder, createPlayer)`
    : `hero_voice is not reachable: ${voiceBase}${COMPONENTS_PATH} could not be loaded`;
}

function base64Blob(base64: string, type: string): Blob {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type });
}

function createAdapter(components: HeroVoiceComponents, voiceBase: string): VoiceAdapter {
  const wsUrl = new URL(`${voiceBase}${TRANSCRIBE_PATH}`, location.href);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
  let player: ReturnType<HeroVoiceComponents["createPlayer"]> | null = null;
  return {
    listen({ signal, onPartial }) {
      return new Promise<string>((resolve, reject) => {
        if (signal.aborted) return resolve("");
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          fn();
        };
        const recorder = components.createStreamingRecorder({
          url: wsUrl.href,
          ...(onPartial ? { onPartial } : {}),
          onFinal: (text) => finish(() => resolve(String(text ?? "").trim())),
          onError: (error) => {
            recorder.stop();
            finish(() => reject(error instanceof Error ? error : new Error(String(error))));
          },
        });
        const onAbort = () => {
          recorder.stop();
          finish(() => resolve(""));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        Promise.resolve(recorder.start()).catch((error) => {
          recorder.stop();
          finish(() => reject(error instanceof Error ? error : new Error(String(error))));
        });
      });
    },

    async synthesize(text, signal) {
      // A client per call: the call's signal travels in its fetch.
      const voice = new RpcClient<VoiceMethods>({
        baseUrl: `${voiceBase}${RPC_PATH.slice(0, -"/rpc".length)}`,
        fetch: function sameOrigin(input, init) {
          return fetch(input, { ...init, credentials: "same-origin", signal });
        },
      });
      let result: Record<string, unknown>;
      try {
        result = await voice.call(SYNTHESIZE_METHOD, { text, format: "wav" }) ?? {};
      } catch (err) {
        throw new Error(`Cannot synthesize speech: ${err instanceof Error ? err.message : err}`);
      }
      const audio = result.audio ?? result.audio_base64;
      if (typeof audio !== "string") throw new Error("Cannot synthesize speech: no audio");
      const type = typeof result.mime_type === "string"
        ? result.mime_type
        : `audio/${typeof result.format === "string" ? result.format : "wav"}`;
      return base64Blob(audio, type);
    },

    play(audio, signal) {
      if (signal.aborted) return Promise.resolve();
      player ??= components.createPlayer();
      const current = player;
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          current.stop();
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        current.play(audio).then(resolve, reject).finally(() =>
          signal.removeEventListener("abort", onAbort)
        );
      });
    },
  };
}

/**
 * Loads hero_voice once per page (see the module doc) and answers with an adapter, or with the
 * reason voice is unavailable.
 */
export function loadVoice(voiceBase: string): Promise<VoiceAvailability> {
  const shared = globalThis as unknown as Record<symbol, Map<string, Promise<VoiceAvailability>>>;
  const cache = shared[SHARED] ??= new Map();
  let pending = cache.get(voiceBase);
  if (!pending) {
    pending = loadComponents(voiceBase).then(
      (loaded): VoiceAvailability =>
        typeof loaded === "string"
          ? { ok: false, reason: loaded }
          : { ok: true, adapter: createAdapter(loaded, voiceBase) },
      (err): VoiceAvailability => ({ ok: false, reason: String(err) }),
    );
    cache.set(voiceBase, pending);
  }
  return pending;
}
