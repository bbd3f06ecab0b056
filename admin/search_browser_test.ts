/**
 * Search in Chromium against a real server (fake claude): Ctrl+K and `/` focus the header box,
 * typing shows hits grouped by agent, a hit opens the transcript scrolled to its line with the
 * word highlighted, the search page keeps its filters in the URL, and a line's markup stays text.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { fakePrompt } from "@hero/core/testing";
import { startAdmin } from "./main.ts";
import { noLog } from "@hero/service/log";
import {
  CHROMIUM,
  launchChromium,
  REPO_ROOT,
  startInProcess,
  tempDist,
  tempEnv,
  waitFor,
} from "./testing/harness.ts";

// Functions given to page.evaluate() run in the browser; their globals are declared loosely here.
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
declare const CSS: any;

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;

function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "search in Chromium: Ctrl+K, grouped hits, a hit opens its line highlighted, URL filters",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    await using env = await tempEnv();
    for (const d of ["sea", "lab"]) await Deno.mkdir(`${env.work}/${d}`);
    await using server = await startInProcess(env.env);
    const client = server.client;
    const distDir = await tempDist();

    // The hit sits 800 lines before the newest: outside the page the transcript loads first.
    const deep = await client.agent.create({
      prompt: fakePrompt({
        auto: true,
        steps: [
          { lines: 300, bytes: 120 },
          { text: "the narwhal surfaces near /tmp/ocean.txt" },
          { lines: 800, bytes: 120 },
        ],
      }),
      cwd: `${env.work}/sea`,
      name: "Deep sea",
    });
    const other = await client.agent.create({
      prompt: fakePrompt({
        auto: true,
        steps: [{ text: "a narwhal drawing <img src=x onerror=window.__pwned=1> done" }],
      }),
      cwd: `${env.work}/lab`,
      name: "Lab notes",
    });
    const indexed = await waitFor("both agents indexed", async () => {
      const done = await Promise.all(
        [deep.id, other.id].map(async (id) => (await client.agent.get({ id })).status),
      );
      if (done.some((s) => s !== "awaiting_review")) return undefined;
      const page = await client.search.query({ q: "narwhal", limit: 20 });
      return (await client.search.status({})).ready ? page : undefined;
    }, 60_000);
    const answer = indexed.hits.find((h) => h.agent_id === deep.id && h.field === "assistant")!;
    assert.ok(answer, JSON.stringify(indexed.hits));
    const deepLast = (await client.agent.get({ id: deep.id })).last_seq;
    assert.ok(deepLast - answer.seq! > 500, "the hit is far from the newest lines");

    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir,
    });
    const browser: Browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");

      await t.step("Ctrl+K focuses the box; typing shows hits grouped by agent", async () => {
        await page.locator("main").click({ position: { x: 5, y: 5 } });
        await page.keyboard.press("Control+k");
        assert.equal(
          await page.evaluate(() => document.activeElement?.className),
          "search-input",
        );
        await page.keyboard.type("narwhal");
        const popup = page.locator("[data-testid=search-popup] [data-testid=search-results]");
        await popup.waitFor();
        await page.waitForFunction(() =>
          document.querySelectorAll("[data-testid=search-popup] .search-group").length === 2
        );
        const groups = await page.locator("[data-testid=search-popup] .search-group")
          .evaluateAll((els: Array<{ dataset: { agent: string } }>) =>
            els.map((e) => e.dataset.agent)
          );
        assert.deepEqual(groups.sort(), [deep.id, other.id].sort());
        // The marked word, and the line's markup shown as text, never as an element.
        const marks = await page.locator("[data-testid=search-popup] mark").allInnerTexts();
        assert.ok(
          marks.length >= 2 && marks.every((m) => m.toLowerCase() === "narwhal"),
          `${marks}`,
        );
        assert.equal(await page.locator("[data-testid=search-popup] img").count(), 0);
        await page.screenshot({ path: `${SCREENSHOTS}/search-popup.png` });
        assert.match(
          await page.locator(`.search-group[data-agent="${other.id}"]`).innerText(),
          /<img src=x onerror=window.__pwned=1>/,
        );
      });

      await t.step(
        "a hit opens the transcript scrolled to its line, the word highlighted",
        async () => {
          await page.locator(
            `[data-testid=search-popup] .search-group[data-agent="${deep.id}"] .search-hit[data-seq="${answer.seq}"]`,
          ).click();
          await page.waitForURL(new RegExp(`/agents/${deep.id}\\?seq=${answer.seq}&q=narwhal`));
          const target = page.locator(".vrow[data-search-target]");
          await target.waitFor({ timeout: 30_000 });
          assert.equal(await target.getAttribute("data-key"), String(answer.seq));
          await page.waitForFunction(
            () => {
              const row = document.querySelector(".vrow[data-search-target]");
              const list = document.querySelector(".vlist");
              if (!row || !list) return false;
              const r = row.getBoundingClientRect();
              const l = list.getBoundingClientRect();
              return r.top >= l.top - 1 && r.top < l.bottom;
            },
            undefined,
            { timeout: 15_000 },
          );
          const highlighted = await page.evaluate(() => {
            const h = CSS.highlights.get("search-match");
            return h ? [...h].map((r: { toString(): string }) => r.toString()) : [];
          });
          assert.deepEqual(highlighted, ["narwhal"]);
          assert.match(await target.innerText(), /the narwhal surfaces/);
          await page.screenshot({ path: `${SCREENSHOTS}/search-hit-transcript.png` });
        },
      );

      await t.step(
        "/ focuses the box; Enter opens the search page; filters live in the URL",
        async () => {
          await page.locator(".agent-head h1").click();
          await page.keyboard.press("/");
          assert.equal(
            await page.evaluate(() => document.activeElement?.className),
            "search-input",
          );
          await page.keyboard.press("Control+a");
          await page.keyboard.type('"narwhal surfaces"');
          await page.keyboard.press("Enter");
          await page.waitForURL(/\/search\?q=%22narwhal\+surfaces%22$/);
          await page.waitForSelector(".search-page[data-state=ready]");
          assert.equal(await page.locator(".search-page .search-group").count(), 1);

          await page.goto(
            `${new URL(admin.openUrl!).origin}/search?q=narwhal&cwd=${
              encodeURIComponent(`${env.work}/lab`)
            }`,
          );
          await page.waitForSelector(".search-page[data-state=ready]");
          const agents = await page.locator(".search-page .search-group").evaluateAll(
            (els: Array<{ dataset: { agent: string } }>) => els.map((e) => e.dataset.agent),
          );
          assert.deepEqual(agents, [other.id]);
          await page.selectOption(".search-filters select[aria-label=Working\\ directory]", "");
          await page.waitForFunction(() =>
            !location.search.includes("cwd=") &&
            document.querySelectorAll(".search-page .search-group").length === 2
          );
          await page.selectOption(".search-filters select[aria-label=Since]", "24h");
          await page.waitForFunction(() => location.search.includes("since=24h"));
          await page.screenshot({ path: `${SCREENSHOTS}/search-page.png` });

          await page.fill(".search-page-input", '"narwhal');
          await page.press(".search-page-input", "Enter");
          await page.locator(".search-page [role=alert]").waitFor();
          assert.match(await page.locator(".search-page [role=alert]").innerText(), /quote/);
        },
      );

      assert.equal(
        await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned),
        undefined,
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
