import assert from "node:assert/strict";
import { VoiceLoop, type VoiceState } from "./voice_loop.ts";
import type { VoiceAdapter, VoiceAvailability } from "./voice_adapter.ts";

/** A scripted adapter: each listen() waits for `hear()`; play() waits for `finish()`. */
function fakeVoice() {
  const log: string[] = [];
  let hearNext: ((text: string) => void) | null = null;
  let endPlay: (() => void) | null = null;
  const adapter: VoiceAdapter = {
    listen({ signal }) {
      log.push("listen");
      return new Promise((resolve) => {
        hearNext = resolve;
        signal.addEventListener("abort", () => resolve(""), { once: true });
      });
    },
    synthesize(text) {
      log.push(`tts:${text}`);
      return Promise.resolve(new Blob([text]));
    },
    play(audio, signal) {
      return audio.text().then((text) => {
        log.push(`play:${text}`);
        return new Promise<void>((resolve) => {
          endPlay = resolve;
          signal.addEventListener("abort", () => {
            log.push(`stop:${text}`);
            resolve();
          }, { once: true });
        });
      });
    },
  };
  return {
    log,
    adapter,
    hear: (text: string) => hearNext!(text),
    finish: () => endPlay!(),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

function setup(loadResult?: VoiceAvailability) {
  const voice = fakeVoice();
  const states: VoiceState[] = [];
  const sent: string[] = [];
  let busy = false;
  let loads = 0;
  const loop = new VoiceLoop({
    submitSpoken: (text) => {
      sent.push(text);
      busy = true;
      return Promise.resolve(true);
    },
    busy: () => busy,
    onState: (s) => states.push(s),
  }, () => {
    loads++;
    return Promise.resolve(loadResult ?? { ok: true, adapter: voice.adapter });
  });
  return {
    voice,
    loop,
    states,
    sent,
    setBusy: (b: boolean) => (busy = b),
    loads: () => loads,
  };
}

Deno.test("VoiceLoop: one spoken turn is read back sentence by sentence, then it listens again", async () => {
  const { voice, loop, states, sent, setBusy, loads } = setup();
  await loop.toggle();
  assert.equal(loop.state, "listening");
  voice.hear("what is on page four");
  await tick();
  assert.deepEqual(sent, ["what is on page four"]);
  assert.equal(loop.state, "waiting");
  // Each assistant text block is complete: its end is a sentence boundary.
  loop.replyText("Page four has a dragon. It is green.");
  await tick();
  assert.equal(loop.state, "speaking");
  setBusy(false);
  loop.replyDone();
  voice.finish();
  await tick();
  voice.finish();
  await tick();
  assert.equal(loop.state, "listening");
  assert.deepEqual(voice.log.filter((l) => l.startsWith("play:")), [
    "play:Page four has a dragon.",
    "play:It is green.",
  ]);
  assert.deepEqual(states.slice(0, 4), ["loading", "listening", "sending", "waiting"]);
  loop.stop();
  assert.equal(loop.state, "off");
  assert.equal(loads(), 1);
});

Deno.test("VoiceLoop: a tap during playback stops it and skips the rest of the reply", async () => {
  const { voice, loop, setBusy } = setup();
  await loop.toggle();
  voice.hear("read it");
  await tick();
  loop.replyText("One. Two. Three.");
  await tick();
  assert.equal(loop.state, "speaking");
  await loop.toggle();
  assert.equal(loop.state, "waiting", "the reply is not complete yet");
  loop.replyText("Four.");
  setBusy(false);
  loop.replyDone();
  await tick();
  assert.equal(loop.state, "listening");
  assert.deepEqual(voice.log.filter((l) => /^(play|stop):/.test(l)), ["play:One.", "stop:One."]);
  await loop.toggle();
  assert.equal(loop.state, "off");
});

Deno.test("VoiceLoop: unavailable voice disables the loop; silence ends it", async () => {
  const down = setup({ ok: false, reason: "hero_voice is not reachable" });
  await down.loop.toggle();
  assert.equal(down.loop.state, "unavailable");
  assert.equal(down.loop.reason, "hero_voice is not reachable");
  await down.loop.toggle();
  assert.equal(down.loop.state, "unavailable");
  assert.equal(down.loads(), 1);

  const { voice, loop, sent } = setup();
  await loop.toggle();
  voice.hear("");
  await tick();
  assert.equal(loop.state, "off");
  assert.deepEqual(sent, []);
});

Deno.test("VoiceLoop: started while a typed turn runs, it waits silently, then listens", async () => {
  const { voice, loop, setBusy } = setup();
  setBusy(true);
  await loop.toggle();
  assert.equal(loop.state, "waiting");
  loop.replyText("Typed answer.");
  setBusy(false);
  loop.replyDone();
  await tick();
  assert.equal(loop.state, "listening");
  assert.deepEqual(voice.log.filter((l) => l.startsWith("tts:")), []);
  loop.stop();
});
