/**
 * The spoken conversation of one widget: a half-duplex loop of listen → send the transcript as a
 * turn → read the reply back sentence by sentence as it streams → listen again. Tapping the control
 * starts the loop; tapping while a reply is read interrupts the playback (the loop listens again
 * once the reply is complete); tapping at any other time stops the loop. The loop never starts on
 * its own: after a reload it is always off.
 * @module
 */
import { SentenceSplitter } from "./sentences.ts";
import type { VoiceAdapter, VoiceAvailability } from "./voice_adapter.ts";

/** Where the loop is. */
export type VoiceState =
  | "off"
  | "loading"
  | "listening"
  | "sending"
  | "waiting"
  | "speaking"
  | "unavailable";

/** What the loop needs from its widget. */
export interface VoiceHost {
  /** Sends a spoken turn; resolves false when it could not be sent. */
  submitSpoken(text: string): Promise<boolean>;
  /** The agent is still working on a turn (a new turn cannot be sent yet). */
  busy(): boolean;
  /** State changes; `detail` explains `unavailable` and errors. */
  onState(state: VoiceState, detail: string | null): void;
  /** A partial transcript while listening. */
  onPartial?(text: string): void;
}

interface Clip {
  audio: Promise<Blob>;
}

/** One widget's voice loop. */
export class VoiceLoop {
  #host: VoiceHost;
  #load: () => Promise<VoiceAvailability>;
  #adapter: VoiceAdapter | null = null;
  #state: VoiceState = "off";
  #reason: string | null = null;
  #listening: AbortController | null = null;
  #playing: AbortController | null = null;
  /** Aborts synthesis requests of the current reply. */
  #reply: AbortController = new AbortController();
  #splitter = new SentenceSplitter();
  #queue: Clip[] = [];
  #pumping = false;
  /** The current reply is being read (a spoken turn, not interrupted). */
  #speakReply = false;
  #replyDone = true;

  constructor(host: VoiceHost, load: () => Promise<VoiceAvailability>) {
    this.#host = host;
    this.#load = load;
  }

  get state(): VoiceState {
    return this.#state;
  }

  /** Why voice is unavailable (or the last error). */
  get reason(): string | null {
    return this.#reason;
  }

  #set(state: VoiceState, detail: string | null = null): void {
    this.#state = state;
    this.#reason = detail;
    this.#host.onState(state, detail);
  }

  /** The control was tapped. */
  async toggle(): Promise<void> {
    switch (this.#state) {
      case "unavailable":
      case "loading":
        return;
      case "off": {
        if (!this.#adapter) {
          this.#set("loading");
          const loaded = await this.#load();
          if (!loaded.ok) return this.#set("unavailable", loaded.reason);
          this.#adapter = loaded.adapter;
        }
        if (this.#host.busy()) {
          // A typed turn is running: its reply is not read; listen once it is done.
          this.#speakReply = false;
          this.#replyDone = false;
          return this.#set("waiting");
        }
        return void this.#listen();
      }
      case "speaking":
        this.#interrupt();
        return;
      default:
        this.stop();
    }
  }

  /** Stops everything (the control, the widget going away). */
  stop(): void {
    this.#listening?.abort();
    this.#listening = null;
    this.#stopPlayback();
    if (this.#state !== "unavailable") this.#set("off");
  }

  #stopPlayback(): void {
    this.#reply.abort();
    this.#reply = new AbortController();
    this.#playing?.abort();
    this.#playing = null;
    this.#queue = [];
    this.#splitter = new SentenceSplitter();
    this.#speakReply = false;
  }

  #interrupt(): void {
    this.#stopPlayback();
    if (this.#replyDone) void this.#listen();
    else this.#set("waiting");
  }

  async #listen(): Promise<void> {
    const adapter = this.#adapter!;
    const controller = new AbortController();
    this.#listening = controller;
    this.#set("listening");
    let text: string;
    try {
      text = await adapter.listen({
        signal: controller.signal,
        onPartial: (t) => this.#host.onPartial?.(t),
      });
    } catch (err) {
      if (this.#listening === controller) this.#listening = null;
      return this.#set("off", `Cannot listen: ${err instanceof Error ? err.message : err}`);
    }
    if (this.#listening !== controller || controller.signal.aborted) return;
    this.#listening = null;
    if (text === "") return this.#set("off", "Nothing was heard");
    this.#set("sending");
    this.#speakReply = true;
    this.#replyDone = false;
    this.#splitter = new SentenceSplitter();
    const sent = await this.#host.submitSpoken(text);
    if (this.#state !== "sending") return; // stopped meanwhile
    if (!sent) {
      this.#speakReply = false;
      this.#replyDone = true;
      return this.#set("off", "The spoken turn could not be sent");
    }
    this.#set("waiting");
  }

  /** A complete assistant text block of the running turn. */
  replyText(text: string): void {
    if (!this.#speakReply) return;
    this.#enqueue(this.#splitter.push(`${text}\n\n`));
  }

  /** The running turn ended (any outcome). */
  replyDone(): void {
    if (this.#state === "off" || this.#state === "unavailable" || this.#replyDone) return;
    this.#replyDone = true;
    if (this.#speakReply) this.#enqueue(this.#splitter.flush());
    if (!this.#pumping && this.#queue.length === 0) this.#afterReply();
  }

  #afterReply(): void {
    this.#speakReply = false;
    if (this.#state === "waiting" || this.#state === "speaking") void this.#listen();
  }

  #enqueue(sentences: string[]): void {
    const adapter = this.#adapter;
    if (!adapter || sentences.length === 0) return;
    const signal = this.#reply.signal;
    for (const sentence of sentences) {
      // Synthesis starts at once, so the next sentence is ready when the current one ends.
      const audio = adapter.synthesize(sentence, signal);
      audio.catch(() => {});
      this.#queue.push({ audio });
    }
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const clip = this.#queue.shift()!;
        const controller = new AbortController();
        this.#playing = controller;
        let audio: Blob;
        try {
          audio = await clip.audio;
        } catch {
          continue; // a sentence that cannot be synthesized is skipped
        }
        if (controller.signal.aborted) break;
        this.#set("speaking");
        try {
          await this.#adapter!.play(audio, controller.signal);
        } catch {
          // playback failed: go on with the next sentence
        }
        if (controller.signal.aborted) break;
        this.#playing = null;
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#state !== "speaking" && this.#state !== "waiting") return;
    if (this.#replyDone) this.#afterReply();
    else if (this.#state === "speaking") this.#set("waiting");
  }
}
