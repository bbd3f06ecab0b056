/**
 * `<hero-agent-widget>` in headless Chromium, on a "hero_books" host page served by a fake
 * hero_router next to the real admin (admin.sock) and server (fake claude): two widgets with
 * different home services; submit, stream, cancel, follow up, reload (state restored per widget,
 * a running agent reattached without duplicate lines), a second tab, style isolation, and zero
 * requests for missing or invalid home-mcp values.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { fakePrompt } from "@hero/core/testing";
import {
  chromiumAvailable,
  HERO_CONTEXT,
  startWidgetStack,
  type WidgetStack,
} from "./testing/widget_stack.ts";

// Functions given to page.evaluate() run in the browser; this file is checked without the DOM lib.
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
declare const sessionStorage: any;
// deno-lint-ignore no-explicit-any
declare const getComputedStyle: any;

const SCREENSHOTS = new URL("../.ci/out/screenshots/", import.meta.url).pathname;

const W = (id: string, rest = "") => `#${id}${rest ? ` ${rest}` : ""}`;

async function openPanel(page: Page, id: string): Promise<void> {
  if (await page.locator(W(id, ".panel")).isHidden()) await page.click(W(id, ".launcher"));
  await page.locator(W(id, ".panel")).waitFor();
}

async function status(page: Page, id: string): Promise<string | null> {
  return await page.getAttribute(`#${id}`, "data-status");
}

async function waitStatus(page: Page, id: string, want: string, ms = 15_000): Promise<void> {
  await page.waitForSelector(`#${id}[data-status="${want}"]`, { timeout: ms });
}

async function texts(page: Page, id: string): Promise<string[]> {
  return await page.locator(W(id, ".transcript .item")).allInnerTexts();
}

/**
 * Waits for agent output containing `text`. The user's own prompt items are skipped: a fake
 * claude prompt spells out every text its scenario will print, so it would match at once.
 */
async function waitText(page: Page, id: string, text: string, ms = 15_000): Promise<void> {
  await page.locator(W(id, ".transcript .item:not(.user)")).filter({ hasText: text }).first()
    .waitFor({
      timeout: ms,
    });
}

/** A file the fake claude waits for: the test decides when a turn goes on. */
interface Gate {
  path: string;
  open(): Promise<void>;
}

let gates = 0;
/** A gate in `dir` (the agent's cwd: the only directory its sandbox shares; removed with it). */
function gate(dir: string): Gate {
  const path = `${dir}/gate-${++gates}`;
  return { path, open: () => Deno.writeTextFile(path, "go") };
}

/** A fake claude turn: texts, and gates it waits at. */
function turn(...parts: Array<string | Gate>) {
  return fakePrompt({
    auto: true,
    steps: parts.map((p) =>
      typeof p === "string"
        ? { text: p }
        : { spawnWait: `until [ -e '${p.path}' ]; do sleep 0.05; done` }
    ),
  });
}

Deno.test({
  name: "widget in Chromium: two home services, stream, cancel, follow up, reload, tabs, isolation",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using stack: WidgetStack = await startWidgetStack();
    const { router, server } = stack;
    const client = server.client;

    await t.step(
      "missing or invalid home-mcp values render an error and request nothing",
      async () => {
        const before = router.requests.length;
        const page = await stack.open("/hero_books/admin/invalid");
        const requested: string[] = [];
        page.on("request", (r) => requested.push(new URL(r.url()).pathname));
        await page.waitForSelector("#missing[data-state=invalid]");
        for (const id of ["missing", "empty", "plain", "caps", "dash", "space"]) {
          await page.waitForSelector(`#${id}[data-state=invalid]`);
          const message = await page.locator(W(id, ".invalid")).innerText();
          assert.match(message, /home-mcp/, id);
        }
        assert.match(await page.locator(W("missing", ".invalid")).innerText(), /required/);
        await page.waitForTimeout(500);
        const paths = router.requests.slice(before).map((r) => r.path)
          .filter((p) => p !== "/favicon.ico"); // the browser's own
        assert.deepEqual(paths, [
          "/hero_books/admin/invalid",
          "/hero_orchestrator/admin/widget/hero-agent-widget.js",
        ]);
        assert.deepEqual(requested, []);
        const keys = await page.evaluate(() => sessionStorage.length);
        assert.equal(keys, 0);
        await page.close();
      },
    );

    // Counts the widgets' event streams and how many are still open.
    await stack.context.addInitScript(() => {
      const w = globalThis as unknown as Record<string, unknown>;
      const Native = w.EventSource as new (url: string) => { readyState: number };
      const all: Array<{ readyState: number }> = [];
      w.__sources = all;
      w.EventSource = class extends Native {
        constructor(url: string) {
          super(url);
          all.push(this);
        }
      };
    });
    const openStreams = (p: Page) =>
      p.evaluate(() =>
        (globalThis as unknown as { __sources: Array<{ readyState: number }> }).__sources
          .filter((s) => s.readyState !== 2).length
      );
    const page = await stack.open("/hero_books/admin/");
    await page.waitForSelector("#books[data-state=compose]");
    await page.waitForSelector("#foo[data-state=compose]");
    await page.waitForTimeout(200);
    assert.equal(
      router.count("/hero_orchestrator/admin/rpc") +
        router.count("/hero_orchestrator/admin/events"),
      0,
      "a closed widget without a conversation requests nothing",
    );

    await t.step("styles do not leak in or out of the widget", async () => {
      const inside = await page.evaluate(() => {
        const root = document.querySelector("#books").shadowRoot;
        const s = getComputedStyle(root.querySelector(".launcher"));
        const host = getComputedStyle(document.querySelector("#books"));
        return {
          background: s.backgroundColor,
          font: s.fontFamily,
          size: s.fontSize,
          color: host.color,
          spacing: host.letterSpacing,
        };
      });
      assert.notEqual(inside.background, "rgb(0, 255, 0)");
      assert.notEqual(inside.size, "30px");
      assert.doesNotMatch(inside.font, /^serif$/);
      assert.notEqual(inside.color, "rgb(255, 0, 0)");
      assert.equal(inside.spacing, "normal");
      const outside = await page.evaluate(() => {
        const s = getComputedStyle(document.querySelector(".host-button"));
        return { background: s.backgroundColor, size: s.fontSize };
      });
      assert.deepEqual(outside, { background: "rgb(0, 255, 0)", size: "30px" });
    });

    let booksId = "";
    await t.step(
      "a prompt in the hero_books widget creates an agent and streams its lines",
      async () => {
        await openPanel(page, "books");
        await page.waitForSelector(
          W("books", "select[name=model] option[value=claude-haiku-4-5]"),
          {
            state: "attached",
          },
        );
        await page.selectOption(W("books", "select[name=model]"), "claude-haiku-4-5");
        await page.selectOption(W("books", "select[name=effort]"), "low");
        const between = gate(`${stack.work}/books`);
        await page.fill(
          W("books", "textarea[name=prompt]"),
          turn("Part one.", between, "Part two."),
        );
        await page.click(W("books", ".run"));
        await waitText(page, "books", "Part one.");
        assert.equal(await openStreams(page), 1);
        assert.ok(
          ["running", "queued"].includes((await status(page, "books"))!),
          "still working while the first line is shown",
        );
        assert.ok(await page.locator(W("books", ".working")).isVisible());
        assert.match(await page.locator(W("books", ".working .meta")).innerText(), /^\d+s · <?\$/);
        assert.ok(!(await texts(page, "books")).includes("Part two."));
        await between.open();
        await waitText(page, "books", "Part two.");
        await waitStatus(page, "books", "awaiting_review");
        assert.ok(await page.locator(W("books", ".followup")).isVisible());
        assert.ok(await page.locator(W("books", ".composer")).isHidden());
        const { agents } = await client.agent.list({});
        const agent = agents.find((a) => a.home_mcp === "hero_books")!;
        booksId = agent.id;
        assert.equal(agent.hero_context, HERO_CONTEXT, "the router's context reached the server");
        assert.equal(agent.cwd, `${stack.work}/books`, "hero_books' default cwd");
        assert.equal(agent.model, "claude-haiku-4-5");
        assert.equal(agent.effort, "low");
      },
    );

    await t.step("the hero_foo widget cancels its own running agent", async () => {
      await openPanel(page, "foo");
      await page.fill(
        W("foo", "textarea[name=prompt]"),
        fakePrompt({ auto: true, steps: [{ text: "Working on it." }, { hang: true }] }),
      );
      await page.click(W("foo", ".run"));
      await waitText(page, "foo", "Working on it.");
      await waitStatus(page, "foo", "running");
      await page.click(W("foo", ".cancel"));
      await waitStatus(page, "foo", "cancelled");
      assert.ok(await page.locator(W("foo", ".composer")).isVisible(), "a new prompt can be sent");
      const foo = (await client.agent.list({})).agents.find((a) => a.home_mcp === "hero_foo")!;
      assert.equal(foo.status, "cancelled");
      assert.equal(foo.cwd, stack.work, "the default cwd for services without their own");
      await page.fill(W("foo", "textarea[name=prompt]"), "a draft for later");
      await page.click(W("foo", ".close"));
      assert.ok(await page.locator(W("foo", ".panel")).isHidden());
      // hero_books' widget is untouched.
      assert.equal(await status(page, "books"), "awaiting_review");
    });

    await t.step("a follow-up continues the same agent", async () => {
      await page.fill(W("books", "textarea[name=follow_up]"), turn("Answer two."));
      await page.click(W("books", ".send"));
      await waitText(page, "books", "Answer two.");
      await waitStatus(page, "books", "awaiting_review");
      await page.waitForFunction(
        () =>
          document.querySelector("#books").shadowRoot.querySelector(".summary .meta").textContent
            .startsWith("2 turns"),
      );
      await Deno.mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOTS}widget-two-home-services.png` });
      const agent = await client.agent.get({ id: booksId });
      assert.equal(agent.turn_count, 2);
      assert.equal((await client.agent.list({})).agents.length, 2, "no new agent");
    });

    await t.step(
      "reload restores each widget and reattaches to the running agent once",
      async () => {
        const held = gate(`${stack.work}/books`);
        await page.fill(
          W("books", "textarea[name=follow_up]"),
          turn("Slow one.", held, "Slow two."),
        );
        await page.click(W("books", ".send"));
        await waitText(page, "books", "Slow one.");
        const rpcBefore = router.count("/hero_orchestrator/admin/rpc");
        await page.reload();
        await page.waitForSelector("#books[data-open=true]");
        await waitText(page, "books", "Slow one.");
        assert.equal(await status(page, "books"), "running");
        assert.equal(await openStreams(page), 1, "reattached to the running agent");
        await held.open();
        await waitText(page, "books", "Slow two.", 15_000);
        await waitStatus(page, "books", "awaiting_review");
        // Each widget restored once: a batch (health + agent) and one page of messages; the open
        // one also read system.info for its model list.
        assert.equal(router.count("/hero_orchestrator/admin/rpc") - rpcBefore, 5);
        const lines = await texts(page, "books");
        // Every prompt in its place, every line once.
        assert.deepEqual(lines.map((l) => (l.startsWith("FAKE:") ? "(prompt)" : l)), [
          "(prompt)",
          "Part one.",
          "Part two.",
          "(prompt)",
          "Answer two.",
          "(prompt)",
          "Slow one.",
          "Slow two.",
        ]);
        // hero_foo: closed as it was left, with its cancelled conversation and its draft.
        await page.waitForSelector("#foo[data-status=cancelled]");
        assert.equal(await page.getAttribute("#foo", "data-open"), "false");
        await openPanel(page, "foo");
        assert.match(await page.locator(W("foo", ".summary")).innerText(), /Cancelled/);
        assert.deepEqual(await texts(page, "foo").then((l) => l.slice(1)), ["Working on it."]);
        assert.equal(await page.inputValue(W("foo", "textarea[name=prompt]")), "a draft for later");
        const keys = await page.evaluate(() =>
          Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.key(i)).sort()
        );
        assert.deepEqual(keys, [
          "hero-agent-widget:v1:hero_books",
          "hero-agent-widget:v1:hero_foo",
        ]);
        await page.click(W("foo", ".close"));
        assert.equal(await openStreams(page), 0, "streams close once their agent is idle");
      },
    );

    await t.step("another tab starts with its own, empty state", async () => {
      const other = await stack.open("/hero_books/admin/");
      await other.waitForSelector("#books[data-state=compose]");
      await openPanel(other, "books");
      assert.deepEqual(await texts(other, "books"), []);
      assert.equal(await other.inputValue(W("books", "textarea[name=prompt]")), "");
      await other.close();
    });

    await t.step("server errors show inline and keep the draft", async () => {
      await page.click(W("books", ".new"));
      await page.waitForSelector("#books[data-state=compose]");
      await page.fill(W("books", "textarea[name=prompt]"), "hello");
      await page.evaluate(() => {
        const root = document.querySelector("#books").shadowRoot;
        const select = root.querySelector("select[name=model]");
        const option = document.createElement("option");
        option.value = "no-such-model";
        select.append(option);
        select.value = "no-such-model";
      });
      await page.click(W("books", ".run"));
      await page.locator(W("books", ".error-line")).filter({ hasText: /model/ }).waitFor();
      assert.equal(await page.inputValue(W("books", "textarea[name=prompt]")), "hello");
    });

    assert.deepEqual(stack.errors, []);
  },
});
