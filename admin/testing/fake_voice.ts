/**
 * A fake hero_voice for the widget's voice tests (tests only), mounted at `/hero_voice` on the
 * fake router. It provides exactly what `admin/web/widget/voice_adapter.ts` expects:
 * - `/admin/voice-widget/components.js`: sets `globalThis.HeroVoiceComponents` with a streaming
 *   recorder (microphone → PCM frames over the transcribe WebSocket; Chromium's fake audio device
 *   in the tests) and a player (`<audio>` on a blob URL). It logs to `window.__fakeVoice`.
 * - `/admin/voice-widget/transcribe` (WebSocket): counts the audio bytes of each connection and,
 *   once enough arrived and a transcript is queued ({@linkcode FakeVoice.say}), answers a partial
 *   then a final transcript (server-side endpointing). Without a queued transcript it keeps
 *   listening.
 * - `/rpc/rpc`: JSON-RPC `voiceservice.synthesize_speech` → a WAV tone (base64).
 * `available = false` makes every path answer 404 (hero_voice absent or unrouted).
 * @module
 */

export const COMPONENTS_JS = `
const fv = (globalThis.__fakeVoice ??= { loads: 0, recorders: 0, log: [] });
fv.loads++;
const log = (entry) => fv.log.push(entry);
globalThis.HeroVoiceComponents = {
  createStreamingRecorder({ url, onPartial, onFinal, onError }) {
    let ws = null;
    let stream = null;
    let ctx = null;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      log("rec:stop");
      try { ws?.close(); } catch {}
      stream?.getTracks().forEach((t) => t.stop());
      ctx?.close().catch(() => {});
    };
    return {
      async start() {
        fv.recorders++;
        log("rec:start");
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        if (stopped) return stream.getTracks().forEach((t) => t.stop());
        ws = new WebSocket(url);
        ws.binaryType = "arraybuffer";
        ws.onmessage = (e) => {
          const m = JSON.parse(e.data);
          if (m.type === "partial") onPartial?.(m.text);
          if (m.type === "final") {
            stop();
            onFinal(m.text);
          }
        };
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error("the transcribe socket failed"));
        });
        ws.onerror = () => {
          if (stopped) return;
          stop();
          onError?.(new Error("the transcribe socket failed"));
        };
        ctx = new AudioContext();
        const source = ctx.createMediaStreamSource(stream);
        const node = ctx.createScriptProcessor(4096, 1, 1);
        source.connect(node);
        node.connect(ctx.destination);
        node.onaudioprocess = (event) => {
          if (stopped || ws.readyState !== 1) return;
          const samples = event.inputBuffer.getChannelData(0);
          const pcm = new Int16Array(samples.length);
          for (let i = 0; i < samples.length; i++) {
            pcm[i] = Math.max(-1, Math.min(1, samples[i])) * 32767;
          }
          ws.send(pcm.buffer);
        };
      },
      stop,
    };
  },
  createPlayer() {
    let audio = null;
    let finish = null;
    return {
      play(blob) {
        return new Promise((resolve, reject) => {
          audio = new Audio(URL.createObjectURL(blob));
          finish = resolve;
          log("play");
          audio.onended = () => {
            log("ended");
            resolve();
          };
          audio.onerror = () => reject(new Error("cannot play"));
          audio.play().catch(reject);
        });
      },
      stop() {
        log("stop");
        audio?.pause();
        finish?.();
      },
    };
  },
};
`;

/** A WAV file of a quiet tone. */
export function wavTone(seconds: number, rate = 8000): Uint8Array {
  const n = Math.floor(rate * seconds);
  const buffer = new ArrayBuffer(44 + n * 2);
  const v = new DataView(buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, "RIFF");
  v.setUint32(4, 36 + n * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, "data");
  v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) v.setInt16(44 + i * 2, Math.round(Math.sin(i / 6) * 4000), true);
  return new Uint8Array(buffer);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The fake service; mount {@linkcode FakeVoice.handle} at `/hero_voice`. */
export interface FakeVoice {
  /** false: every path answers 404. */
  available: boolean;
  /** Seconds of audio per synthesized sentence. */
  speechSeconds: number;
  /** Queues the transcript of the next utterance. */
  say(text: string): void;
  /** Texts given to synthesize_speech, in order. */
  synthesized: string[];
  /** Transcribe connections opened, and audio bytes received on each. */
  sockets: Array<{ bytes: number; answered: string | null }>;
  handle(req: Request, rest: string): Response | Promise<Response>;
}

/** Audio bytes a connection must send before its transcript is final (~0.1 s at 48 kHz). */
const ENDPOINT_BYTES = 8_000;

export function fakeVoice(): FakeVoice {
  const queue: string[] = [];
  const voice: FakeVoice = {
    available: true,
    speechSeconds: 0.4,
    say: (text) => void queue.push(text),
    synthesized: [],
    sockets: [],
    async handle(req, rest) {
      if (!voice.available) return new Response("router: no such service", { status: 404 });
      if (rest === "/admin/voice-widget/components.js") {
        return new Response(COMPONENTS_JS, {
          headers: {
            "content-type": "text/javascript; charset=utf-8",
            "cache-control": "no-cache",
          },
        });
      }
      if (rest === "/admin/voice-widget/transcribe") {
        if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          return new Response("expected a WebSocket", { status: 400 });
        }
        const { socket, response } = Deno.upgradeWebSocket(req);
        const record: FakeVoice["sockets"][number] = { bytes: 0, answered: null };
        voice.sockets.push(record);
        socket.onmessage = (e) => {
          if (typeof e.data === "string") return;
          record.bytes += (e.data as ArrayBuffer).byteLength;
          if (record.answered !== null || record.bytes < ENDPOINT_BYTES) return;
          const text = queue.shift();
          if (text === undefined) return;
          record.answered = text;
          socket.send(JSON.stringify({ type: "partial", text: text.split(" ")[0] }));
          socket.send(JSON.stringify({ type: "final", text }));
        };
        return response;
      }
      if (rest === "/rpc/rpc" && req.method === "POST") {
        const call = await req.json();
        if (call.method !== "voiceservice.synthesize_speech") {
          return Response.json({
            jsonrpc: "2.0",
            id: call.id,
            error: { code: -32601, message: "Method not found" },
          });
        }
        voice.synthesized.push(String(call.params?.text));
        return Response.json({
          jsonrpc: "2.0",
          id: call.id,
          result: { audio: base64(wavTone(voice.speechSeconds)), mime_type: "audio/wav" },
        });
      }
      return new Response("not found", { status: 404 });
    },
  };
  return voice;
}
