/**
 * The widget's voice mode in headless Chromium with a fake microphone, against a fake hero_voice
 * on the fake router (components.js, a transcribe WebSocket with server-side endpointing, and
 * synthesize_speech): one full spoken turn, an interrupt during playback, a second widget reusing
 * the loaded components.js, an idle loop after reload, and the degraded state when hero_voice
 * answers 404 (text chat still works).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { waitFor } from "./testing/harness.ts";
import { chromiumAvailable, startWidgetStack, type WidgetStack } from "./testing/widget_stack.ts";

// deno-lint-ignore no-explicit-any
declare const document: any;

const COMPONENTS = "/hero_voice/admin/voice-widget/components.js";
const W = (id: string, rest = "") => `#${id}${rest ? ` ${rest}` : ""}`;

interface VoiceLog {
  loads: number;
  recorders: number;
  log: string[];
}

async function voiceLog(page: Page): Promise<VoiceLog> {
  return await page.evaluate(() =>
    (globalThis as unknown as { __fakeVoice?: VoiceLog }).__fakeVoice ??
      { loads: 0, recorders: 0, log: [] }
  );
}

/**
 * Runs in every page before its scripts: records, for a failure message, the widgets' voice, state
 * and status changes and the agent and message events their streams received.
 */
const RECORDER = `(() => {
  const log = (globalThis.__widgetLog = []);
  const t0 = performance.now();
  const rec = (text) => log.push(Math.round(performance.now() - t0) + "ms " + text);
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.target.localName !== "hero-agent-widget") continue;
      rec("#" + c.target.id + " " + c.attributeName + "=" + c.target.getAttribute(c.attributeName));
    }
  }).observe(document, {
    subtree: true,
    attributes: true,
    attributeFilter: ["data-voice", "data-state", "data-status"],
  });
  const Native = globalThis.EventSource;
  globalThis.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      rec("stream open " + String(url).split("?")[1]);
      this.addEventListener("agent", (e) => {
        const a = JSON.parse(e.data);
        rec("event " + e.lastEventId + " agent " + a.status + " last_seq=" + a.last_seq);
      });
      this.addEventListener("message", (e) => {
        const m = JSON.parse(e.data);
        rec("event " + e.lastEventId + " message seq=" + m.seq + " " + m.type);
      });
    }
    close() {
      rec("stream closed");
      super.close();
    }
  };
})();`;

/** What the page, hero_voice and the server saw: appended to a failing step's message. */
async function explain(stack: WidgetStack, page: Page): Promise<string> {
  const fromPage = await page.evaluate(() => {
    const g = globalThis as unknown as { __fakeVoice?: VoiceLog; __widgetLog?: string[] };
    return { voice: g.__fakeVoice ?? null, widget: g.__widgetLog ?? [] };
  }).catch((err) => ({ voice: null, widget: [`(page unreadable: ${err})`] }));
  const agents = await stack.server.client.agent.list({}).then(
    (r) => r.agents.map((a) => `${a.id} ${a.status} last_seq=${a.last_seq} turns=${a.turn_count}`),
    (err) => [`(agent.list failed: ${err})`],
  );
  return [
    `voice log: ${JSON.stringify(fromPage.voice)}`,
    `synthesized: ${JSON.stringify(stack.voice.synthesized)}`,
    `transcribe sockets: ${JSON.stringify(stack.voice.sockets)}`,
    `agents: ${JSON.stringify(agents)}`,
    `page errors: ${JSON.stringify(stack.errors)}`,
    "widget:",
    ...fromPage.widget.slice(-80).map((l) => `  ${l}`),
  ].join("\n");
}

/** A step body whose failure says what the page, hero_voice and the server saw. */
function explained(stack: WidgetStack, page: () => Page, fn: () => Promise<void>) {
  return async () => {
    try {
      await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${message}\n${await explain(stack, page())}`, { cause: err });
    }
  };
}

async function openPanel(page: Page, id: string): Promise<void> {
  if (await page.locator(W(id, ".panel")).isHidden()) await page.click(W(id, ".launcher"));
  await page.locator(W(id, ".panel")).waitFor();
}

async function closePanel(page: Page, id: string): Promise<void> {
  if (await page.locator(W(id, ".panel")).isVisible()) await page.click(W(id, ".close"));
}

async function waitVoice(page: Page, id: string, state: string, ms = 30_000): Promise<void> {
  await page.waitForSelector(`#${id}[data-voice="${state}"]`, { timeout: ms });
}

/** The visible voice control of a widget (composer, working header or follow-up row). */
function voiceButton(page: Page, id: string) {
  return page.locator(`${W(id, ".voice")}:visible`).first();
}

Deno.test({
  name: "widget voice in Chromium: spoken turn, interrupt, shared components.js, reload, degraded",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using stack: WidgetStack = await startWidgetStack();
    const { router, voice, server } = stack;
    await stack.context.addInitScript(RECORDER);
    const page = await stack.open("/hero_books/admin/");
    let current = page;
    const step = (name: string, fn: () => Promise<void>) =>
      t.step(name, explained(stack, () => current, fn));
    await page.waitForSelector("#books[data-state=compose]");
    assert.equal(router.count("/hero_voice"), 0, "hero_voice is loaded lazily");

    await step(
      "one spoken turn: listen, send, read the reply sentence by sentence, listen again",
      async () => {
        await openPanel(page, "books");
        const control = page.locator(W("books", ".composer .voice"));
        assert.equal(await control.getAttribute("data-voice"), "off");
        assert.match((await control.getAttribute("title"))!, /Talk with the agent/);
        voice.say("Hello agent. Please read page four.");
        await control.click();
        // The reply (the fake claude echoes the prompt) is read aloud, then it listens again. The
        // whole chain (recognition, a new agent spawned in its sandbox, the reply, synthesis, two
        // playbacks) runs in this wait, so it gets the deadline of a loaded machine.
        await waitFor("two sentences played", async () => {
          const { log } = await voiceLog(page);
          return log.filter((l) => l === "ended").length === 2;
        }, 60_000);
        await waitVoice(page, "books", "listening");
        assert.deepEqual(voice.synthesized, ["Hello agent.", "Please read page four."]);
        const { log, loads } = await voiceLog(page);
        assert.equal(loads, 1);
        assert.deepEqual(log.filter((l) => l !== "rec:stop").slice(0, 5), [
          "rec:start",
          "play",
          "ended",
          "play",
          "ended",
        ]);
        assert.equal(voice.sockets[0]!.answered, "Hello agent. Please read page four.");
        assert.ok(voice.sockets[0]!.bytes > 0, "audio from the fake microphone reached hero_voice");
        await waitFor("listening again on a new utterance", () => voice.sockets.length === 2);
        const { agents } = await server.client.agent.list({});
        assert.equal(agents.length, 1);
        assert.equal(agents[0]!.prompt, "Hello agent. Please read page four.");
        assert.equal(agents[0]!.home_mcp, "hero_books");
        const spoken = page.locator(W("books", ".item.user.spoken"));
        assert.equal(await spoken.count(), 1, "the turn is marked as spoken");
        await voiceButton(page, "books").click();
        await waitVoice(page, "books", "off");
        assert.equal(router.count(COMPONENTS), 1);
      },
    );

    await step("a tap during playback stops it and skips the rest of the reply", async () => {
      voice.speechSeconds = 3;
      voice.say("Alpha is first. Beta is second. Gamma is third.");
      const before = (await voiceLog(page)).log.length;
      await voiceButton(page, "books").click();
      await waitVoice(page, "books", "speaking");
      await waitFor("playback started", async () => {
        return (await voiceLog(page)).log.slice(before).includes("play");
      }, 30_000);
      await voiceButton(page, "books").click();
      await waitVoice(page, "books", "listening");
      await page.waitForTimeout(700);
      const log = (await voiceLog(page)).log.slice(before);
      assert.equal(log.filter((l) => l === "play").length, 1, "no other sentence was played");
      assert.ok(log.includes("stop"));
      assert.ok(!log.includes("ended"), "the first sentence was cut short");
      const agent = (await server.client.agent.list({})).agents[0]!;
      assert.equal(agent.turn_count, 2, "the spoken follow-up went to the same agent");
      await voiceButton(page, "books").click();
      await waitVoice(page, "books", "off");
      voice.speechSeconds = 0.4;
    });

    await step("a second widget reuses the loaded components.js", async () => {
      await closePanel(page, "books");
      await openPanel(page, "foo");
      const sockets = voice.sockets.length;
      await page.click(W("foo", ".composer .voice"));
      await waitVoice(page, "foo", "listening");
      await waitFor("a transcribe socket for hero_foo", () => voice.sockets.length === sockets + 1);
      assert.equal(router.count(COMPONENTS), 1, "components.js was loaded once");
      assert.equal((await voiceLog(page)).loads, 1);
      assert.equal(
        await page.evaluate(() =>
          document.querySelectorAll('script[src$="/voice-widget/components.js"]').length
        ),
        1,
      );
      await page.click(W("foo", ".composer .voice"));
      await waitVoice(page, "foo", "off");
      await closePanel(page, "foo");
    });

    await step("after a reload the loop is idle and nothing listens", async () => {
      const sockets = voice.sockets.length;
      const loadsBefore = router.count(COMPONENTS);
      await page.reload();
      await page.waitForSelector("#books[data-state=followup]");
      await page.waitForTimeout(500);
      assert.equal(await page.getAttribute("#books", "data-voice"), "off");
      assert.equal(voice.sockets.length, sockets);
      assert.equal(router.count(COMPONENTS), loadsBefore, "not even loaded");
    });

    await step(
      "hero_voice answering 404 disables the control; text chat still works",
      async () => {
        voice.available = false;
        const other = current = await stack.open("/hero_books/admin/");
        await other.waitForSelector("#foo[data-state=compose]");
        await openPanel(other, "foo");
        const control = other.locator(W("foo", ".composer .voice"));
        await control.click();
        await waitVoice(other, "foo", "unavailable");
        assert.ok(await control.isDisabled());
        assert.match(
          (await control.getAttribute("title"))!,
          /hero_voice is not reachable.*Text chat works/,
        );
        await other.fill(W("foo", "textarea[name=prompt]"), "typed instead");
        await other.click(W("foo", ".run"));
        await other.waitForSelector("#foo[data-status=awaiting_review]");
        assert.ok(
          (await other.locator(W("foo", ".transcript .item")).allInnerTexts()).includes(
            "typed instead",
          ),
        );
        assert.equal(
          await control.isVisible(),
          false,
          "the composer made way for the follow-up row",
        );
        assert.ok(await other.locator(W("foo", ".followup .voice")).isDisabled());
        await other.close();
      },
    );

    assert.deepEqual(stack.errors.filter((e) => !/components\.js/.test(e)), []);
  },
});
