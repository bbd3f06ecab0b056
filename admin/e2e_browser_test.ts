/**
 * The admin in headless Chromium against a real server (fake claude) on temp sockets: the admin
 * on loopback TCP (`--listen` mode, token → cookie) and on admin.sock behind a hero_router-like
 * prefix proxy. Covers the form (with server-side validation), live streaming, cancel, complete,
 * follow-up, delete, the cwd filter, reload mid-stream, the prefix mount, an XSS corpus, the
 * first screen at 100k stored lines, one Preact copy at runtime, and screenshots in
 * `.ci/out/screenshots/`.
 */
import assert from "node:assert/strict";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { fakePrompt, type FakeStep } from "@hero/core/testing";
import { activeMs, type Agent, formatDuration } from "@hero/sdk";
import { PREACT_MARKER } from "@hero/tools/build_admin";
import { startAdmin } from "./main.ts";
import { noLog } from "@hero/service/log";
import { resolveAdminPaths } from "./server/paths.ts";
import {
  CHROMIUM,
  launchChromium,
  prefixProxy,
  REPO_ROOT,
  startInProcess,
  tempDist,
  tempEnv,
  waitFor,
} from "./testing/harness.ts";

// Functions given to page.evaluate() run in the browser. This file is type-checked with the rest
// of the Deno side (no DOM lib, see style.md P4), so the browser globals they use are declared
// loosely here, for this module only.
// deno-lint-ignore no-explicit-any
declare const document: any;
declare const innerWidth: number;
type HTMLDetailsElement = { open: boolean };

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;
const PREFIX = "/hero_orchestrator/admin";

function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

interface Watch {
  errors: string[];
  dialogs: number;
  requests: string[];
}

/** A page that records dialogs, page errors, requests, CSP violations and hooked alerts. */
async function watchedPage(ctx: BrowserContext): Promise<{ page: Page; watch: Watch }> {
  const page = await ctx.newPage();
  const watch: Watch = { errors: [], dialogs: 0, requests: [] };
  page.on("pageerror", (e) => watch.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|ERR_ABORTED/.test(m.text())) {
      watch.errors.push(`console: ${m.text()}`);
    }
  });
  page.on("dialog", (d) => {
    watch.dialogs++;
    void d.dismiss();
  });
  page.on("request", (r) => watch.requests.push(r.url()));
  return { page, watch };
}

const INIT_SCRIPT = () => {
  const w = window as unknown as Record<string, unknown>;
  const hero = { alerts: 0, violations: [] as string[] };
  w.__hero = hero;
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    w[name] = () => {
      hero.alerts++;
      return null;
    };
  }
  const Native = w.EventSource as new (url: string) => object;
  const counted = { sources: 0 };
  w.__eventSources = counted;
  w.EventSource = class extends Native {
    constructor(url: string) {
      super(url);
      counted.sources++;
    }
  };
  document.addEventListener(
    "securitypolicyviolation",
    (e: { violatedDirective: string; blockedURI: string }) => {
      hero.violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    },
  );
};

async function security(page: Page) {
  return await page.evaluate(() => {
    const w = window as unknown as {
      __hero: { alerts: number; violations: string[] };
      __pwned?: unknown;
    };
    return { ...w.__hero, pwned: w.__pwned ?? null };
  });
}

async function agentState(page: Page): Promise<string | null> {
  return await page.locator(".agent-title .badge").getAttribute("data-status").catch(() => null);
}

async function waitStatus(page: Page, status: string, ms = 15_000): Promise<void> {
  await page.waitForSelector(`.agent-title .badge[data-status="${status}"]`, { timeout: ms });
}

async function transcriptText(page: Page): Promise<string> {
  return await page.locator(".vlist").innerText();
}

async function waitTranscript(page: Page, text: string, ms = 15_000): Promise<void> {
  await page.locator(".vlist").getByText(text, { exact: false }).first().waitFor({ timeout: ms });
}

/** Rows of what the agent printed: every row but the operator's echoed prompts. */
const OUTPUT_ROWS = ".vlist article.entry:not(.entry-prompt)";

/** The agent's output text (a `FAKE:` prompt holds every text its scenario will print). */
async function outputText(page: Page): Promise<string> {
  return (await page.locator(OUTPUT_ROWS).allInnerTexts()).join("\n");
}

async function waitOutput(page: Page, text: string, ms = 15_000): Promise<void> {
  await page.locator(OUTPUT_ROWS).getByText(text, { exact: false }).first().waitFor({
    timeout: ms,
  });
}

Deno.test({
  name:
    "admin in Chromium: forms, live transcript, actions, filter, reload, prefix, XSS, 100k lines",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const started = performance.now();
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    await using env = await tempEnv();
    const work = env.work;
    for (const d of ["alpha", "beta"]) await Deno.mkdir(`${work}/${d}`);
    await using server = await startInProcess(env.env);
    const client = server.client;
    const distDir = await tempDist();

    // A long transcript, stored while the other steps run.
    const big = await client.agent.create({
      prompt: fakePrompt({ auto: true, steps: [{ lines: 100_000, bytes: 300 }] }),
      cwd: `${work}/beta`,
      name: "Big transcript (100k lines)",
    });

    const listen = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir,
    });
    const onSocket = await startAdmin({ env: env.env, log: noLog, distDir });
    await using proxy = await prefixProxy(resolveAdminPaths(env.env).adminSocket, PREFIX);
    const origin = listen.address;

    let beaconHits = 0;
    const beacon = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      beaconHits++;
      return new Response("x");
    });
    const beaconUrl = `http://127.0.0.1:${beacon.addr.port}`;

    const browser: Browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(INIT_SCRIPT);
    const { page, watch } = await watchedPage(ctx);

    try {
      await t.step("the token URL opens the dashboard with a cookie", async () => {
        await page.goto(listen.openUrl!);
        assert.equal(new URL(page.url()).search, "", "the token left the address bar");
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.waitForSelector("[data-connection=open]");
        const cookies = await ctx.cookies();
        const session = cookies.find((c) => c.name.startsWith("hero_admin_"))!;
        assert.ok(session.httpOnly);
        assert.equal(session.sameSite, "Strict");
      });

      await t.step("the form shows server-side validation next to the field", async () => {
        await page.keyboard.press("n");
        assert.equal(await page.evaluate(() => document.activeElement?.id), "na-prompt");
        await page.fill("#na-prompt", "hello");
        await page.fill("#na-cwd", "relative/dir");
        await page.press("#na-prompt", "Control+Enter");
        const cwdError = page.locator("[data-field-error=na-cwd]");
        await cwdError.waitFor();
        assert.match(await cwdError.innerText(), /\S/);
        assert.equal(await page.getAttribute("#na-cwd", "aria-invalid"), "true");
        await page.fill("#na-prompt", "");
        await page.fill("#na-cwd", `${work}/alpha`);
        await page.click(".new-agent button[type=submit]");
        await page.locator("[data-field-error=na-prompt]").waitFor();
        assert.equal(await page.locator("[data-field-error=na-cwd]").count(), 0);
      });

      let streamer = "";
      await t.step(
        "an agent submitted from the form streams live to its card and page",
        async () => {
          // The agent holds after its third line until the test opens the gate, so "live, not
          // finished yet" is a fact of the test, not a race against a loaded machine.
          const gate = `${work}/alpha/streamer-gate`; // in its cwd: the sandbox hides the rest
          const steps: FakeStep[] = [];
          for (let i = 1; i <= 6; i++) {
            steps.push({ text: `stream-${i} of the **answer**` }, { sleep: 150 });
            if (i === 3) steps.push({ spawnWait: `until [ -e '${gate}' ]; do sleep 0.05; done` });
          }
          await page.fill("#na-prompt", fakePrompt({ auto: true, steps }));
          await page.fill("#na-name", "Streamer");
          await page.selectOption("#na-effort", "high");
          // keyboard: Tab from the name field reaches the submit button
          await page.focus("#na-name");
          await page.keyboard.press("Tab");
          await page.keyboard.press("Enter");
          const link = page.locator(".form-ok a");
          await link.waitFor();
          streamer = (await link.getAttribute("href"))!.split("/").pop()!;
          const card = page.locator(`.card[data-agent-id="${streamer}"]`);
          await card.waitFor();
          assert.equal(
            await card.locator(".badge").getAttribute("data-status").then((s) =>
              ["queued", "running"].includes(s!)
            ),
            true,
          );
          // the card's last line follows the stream without a reload
          await card.locator(".card-last", { hasText: /stream-3 of the answer/ }).waitFor({
            timeout: 30_000,
          });
          assert.match(await card.locator(".card-model").innerText(), /high/);
          await card.locator(".card-name").click();
          await page.waitForSelector("html[data-ready=agent]");
          await waitOutput(page, "stream-3 of the");
          // live: the last lines are not there yet, then they arrive
          const early = await outputText(page);
          assert.ok(!early.includes("stream-6"), "the page came up before the agent finished");
          // Active time ticks while the turn runs (held at the gate)…
          const active = page.locator(".agent-head [data-testid=active-time]");
          const before = await active.innerText();
          await page.waitForFunction(
            (was) =>
              document.querySelector(".agent-head [data-testid=active-time]")?.textContent !== was,
            before,
            { timeout: 10_000 },
          );
          await Deno.writeTextFile(gate, "go");
          await waitOutput(page, "stream-6 of the", 30_000);
          await waitStatus(page, "awaiting_review");
          // …and stands still in review, at the server's figure (running time only).
          const stored = await client.agent.get({ id: streamer });
          assert.equal(stored.active_since, null);
          const expected = formatDuration(activeMs(stored, Date.now()));
          await page.waitForFunction(
            (want) =>
              document.querySelector(".agent-head [data-testid=active-time]")?.textContent === want,
            expected,
            { timeout: 10_000 },
          );
          await new Promise((r) => setTimeout(r, 1_500));
          assert.equal(await active.innerText(), expected, "no ticking while in review");
          const strong = page.locator(".vlist strong", { hasText: "answer" });
          assert.ok(await strong.count() >= 6, "markdown rendered");
          // back on the dashboard the card moved to "awaiting review"
          await page.click("a.back");
          await page.waitForSelector(".dashboard[data-state=ready]");
          await page.locator(`[data-bucket=awaiting_review] .card[data-agent-id="${streamer}"]`)
            .waitFor();
          // The card shows the same active time as the page, not the wall time since creation.
          assert.equal(
            await page.locator(`.card[data-agent-id="${streamer}"] [data-testid=active-time]`)
              .innerText(),
            expected,
          );
        },
      );

      await t.step("agents appear and move between buckets live, on one EventSource", async () => {
        await page.goto(`${origin}/`);
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.evaluate(() => ((globalThis as unknown as { __stay: number }).__stay = 1));
        const gate = `${work}/beta/mover-gate`;
        const a = await client.agent.create({
          prompt: fakePrompt({
            auto: true,
            steps: [
              { text: "moving along" },
              { spawnWait: `until [ -e '${gate}' ]; do sleep 0.05; done` },
            ],
          }),
          cwd: `${work}/beta`,
          name: "Mover",
        });
        await page.locator(`[data-bucket=running] .card[data-agent-id="${a.id}"]`).waitFor();
        await Deno.writeTextFile(gate, "go");
        await page.locator(`[data-bucket=awaiting_review] .card[data-agent-id="${a.id}"]`)
          .waitFor();
        assert.equal(
          await page.locator(`[data-bucket=running] .card[data-agent-id="${a.id}"]`).count(),
          0,
        );
        for (const bucket of ["running", "awaiting_review", "completed"]) {
          const shown = await page.locator(`[data-bucket=${bucket}] .card`).count();
          const counted = Number(await page.locator(`[data-testid=count-${bucket}]`).innerText());
          assert.equal(shown, counted, bucket);
        }
        const state = await page.evaluate(() => {
          const g = globalThis as unknown as {
            __stay?: number;
            __eventSources: { sources: number };
          };
          return { stay: g.__stay, sources: g.__eventSources.sources };
        });
        assert.deepEqual(state, { stay: 1, sources: 1 }, "no reload, one EventSource");
      });

      await t.step("cancel a running agent, then delete it", async () => {
        const hang = await client.agent.create({
          prompt: fakePrompt({ auto: true, steps: [{ text: "working on it" }, { hang: true }] }),
          cwd: `${work}/alpha`,
          name: "Hangs forever",
        });
        await page.goto(`${origin}/agents/${hang.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        await waitTranscript(page, "working on it");
        await page.click(".actions button:has-text('Cancel')");
        await waitStatus(page, "cancelled");
        await page.click(".actions button:has-text('Delete')");
        await page.click(".confirm button:has-text('Delete')");
        await page.waitForURL(`${origin}/`);
        await assert.rejects(() => client.agent.get({ id: hang.id }));
      });

      await t.step(
        "a deleted agent disappears from another open dashboard; cwd suggestions come from the server",
        async () => {
          const gamma = `${work}/gamma`;
          await Deno.mkdir(gamma, { recursive: true });
          const doomed = await client.agent.create({
            prompt: "soon deleted",
            cwd: gamma,
            name: "Soon deleted",
          });
          await waitFor(
            "review",
            async () => (await client.agent.get({ id: doomed.id })).status === "awaiting_review",
          );
          await client.agent.complete({ id: doomed.id });
          // A dashboard showing the agent, the agent's own page, and a dashboard filtered to
          // alpha: that one loads no agent of gamma (the completed list follows the filter), so
          // gamma can only come from agent.cwds.
          const board = await watchedPage(ctx);
          const agentPage = await watchedPage(ctx);
          const filtered = await watchedPage(ctx);
          // A fourth page whose event stream connects only after the delete (a slow network):
          // the server answers 404 for the stream of an agent that is gone.
          const late = await watchedPage(ctx);
          const deleted = Promise.withResolvers<void>();
          await late.page.route(/\/events\?/, async (route) => {
            await deleted.promise;
            await route.continue();
          });
          const cwdsCalls: string[] = [];
          filtered.page.on("request", (r) => {
            if (r.postData()?.includes('"agent.cwds"')) cwdsCalls.push(r.url());
          });
          try {
            await board.page.goto(`${origin}/`);
            await agentPage.page.goto(`${origin}/agents/${doomed.id}`);
            await filtered.page.goto(`${origin}/?cwd=${encodeURIComponent(`${work}/alpha`)}`);
            await late.page.goto(`${origin}/agents/${doomed.id}`);
            await late.page.waitForSelector("html[data-ready=agent]");
            await board.page.waitForSelector(".dashboard[data-state=ready]");
            await agentPage.page.waitForSelector("html[data-ready=agent]");
            await filtered.page.waitForSelector(".dashboard[data-state=ready]");
            const card = board.page.locator(
              `[data-bucket=completed] .card[data-agent-id="${doomed.id}"]`,
            );
            await card.waitFor();
            const suggestion = filtered.page.locator(`#na-cwd-list option[value="${gamma}"]`);
            const filterOption = filtered.page.locator(`#cwd-filter option[value="${gamma}"]`);
            await suggestion.waitFor({ state: "attached" });
            await filterOption.waitFor({ state: "attached" });
            assert.equal(
              await filtered.page.locator(`.card[data-agent-id="${doomed.id}"]`).count(),
              0,
            );
            assert.ok(cwdsCalls.length >= 1, "the filtered dashboard asked agent.cwds");

            // Deleted elsewhere (the API): every open page hears of it from the event stream.
            await client.agent.delete({ id: doomed.id });
            deleted.resolve();
            await card.waitFor({ state: "detached", timeout: 10_000 });
            const shown = await board.page.locator("[data-bucket=completed] .card").count();
            const counted = Number(
              await board.page.locator("[data-testid=count-completed]").innerText(),
            );
            assert.equal(shown, counted, "the count follows");
            const notice = agentPage.page.locator("[data-testid=agent-deleted]");
            await notice.waitFor({ timeout: 10_000 });
            assert.match(await notice.innerText(), /“Soon deleted” was deleted/);
            assert.equal(await agentPage.page.locator(".vlist").count(), 0, "no stale transcript");
            // The late stream's 404 says what happened to the agent this page showed.
            const lateNotice = late.page.locator("[data-testid=agent-deleted]");
            await lateNotice.waitFor({ timeout: 10_000 });
            assert.match(await lateNotice.innerText(), /“Soon deleted” was deleted/);
            // gamma's only agent is gone: the server's list drops it, on both dashboards.
            await suggestion.waitFor({ state: "detached", timeout: 10_000 });
            await filterOption.waitFor({ state: "detached", timeout: 10_000 });
            await board.page.locator(`#na-cwd-list option[value="${gamma}"]`).waitFor({
              state: "detached",
              timeout: 10_000,
            });
            assert.equal(
              await filtered.page.locator(`#na-cwd-list option[value="${work}/beta"]`).count(),
              1,
              "other directories stay",
            );
            for (const w of [board, agentPage, filtered]) assert.deepEqual(w.watch.errors, []);
          } finally {
            await board.page.close();
            await agentPage.page.close();
            await filtered.page.close();
            await late.page.close();
          }
        },
      );

      await t.step("complete an agent awaiting review", async () => {
        const a = await client.agent.create({ prompt: "please review me", cwd: `${work}/beta` });
        await waitFor(
          "review",
          async () => (await client.agent.get({ id: a.id })).status === "awaiting_review",
        );
        await page.goto(`${origin}/agents/${a.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        await waitTranscript(page, "please review me");
        await page.click(".actions button:has-text('Mark complete')");
        await waitStatus(page, "completed");
        assert.equal((await client.agent.get({ id: a.id })).status, "completed");
      });

      await t.step("send a follow-up; it resumes the same session", async () => {
        const before = await client.agent.get({ id: streamer });
        await page.goto(`${origin}/agents/${streamer}`);
        await page.waitForSelector("html[data-ready=agent]");
        const followUp = fakePrompt({
          auto: true,
          steps: [{ sleep: 300 }, { text: "followup-done" }],
        });
        await page.fill("#fu-prompt", followUp);
        await page.press("#fu-prompt", "Control+Enter");
        await page.waitForSelector(
          ".agent-title .badge[data-status=running], .agent-title .badge[data-status=queued]",
        );
        await waitOutput(page, "followup-done");
        await waitStatus(page, "awaiting_review");
        // The follow-up prompt is in the transcript, once, as the operator's, before its answer.
        const prompts = page.locator(".vlist article.entry-prompt");
        await prompts.filter({ hasText: followUp }).waitFor();
        assert.equal(await prompts.filter({ hasText: followUp }).count(), 1);
        assert.equal(
          await prompts.filter({ hasText: followUp }).locator(".prompt-turn-label").innerText(),
          "You",
        );
        const seqOf = async (row: ReturnType<Page["locator"]>) =>
          Number(await row.first().getAttribute("data-seq"));
        assert.ok(
          await seqOf(prompts.filter({ hasText: followUp })) <
            await seqOf(page.locator(OUTPUT_ROWS, { hasText: "followup-done" })),
          "the prompt comes before its answer",
        );
        const after = await client.agent.get({ id: streamer });
        assert.equal(after.session_id, before.session_id);
        assert.equal(await page.locator("[data-testid=session-id]").innerText(), before.session_id);
        assert.equal(after.turn_count, 2);
      });

      await t.step("filter the dashboard by working directory, kept in the URL", async () => {
        await page.goto(`${origin}/`);
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.selectOption("#cwd-filter", `${work}/beta`);
        await page.waitForURL(/\?cwd=/);
        assert.equal(new URL(page.url()).searchParams.get("cwd"), `${work}/beta`);
        const cwds = await page.locator(".card .card-cwd").evaluateAll((els) =>
          els.map((e) => e.getAttribute("title"))
        );
        assert.ok(cwds.length >= 2);
        assert.ok(cwds.every((c) => c === `${work}/beta`), JSON.stringify(cwds));
        assert.equal(
          await page.inputValue("#na-cwd"),
          `${work}/beta`,
          "the form follows the filter",
        );
        await page.reload();
        await page.waitForSelector(".dashboard[data-state=ready]");
        assert.equal(await page.inputValue("#cwd-filter"), `${work}/beta`);
        assert.equal(await page.locator(`.card[data-agent-id="${streamer}"]`).count(), 0);
        await page.selectOption("#cwd-filter", "");
        await page.locator(`.card[data-agent-id="${streamer}"]`).waitFor();
        assert.equal(new URL(page.url()).searchParams.get("cwd"), null);
      });

      await t.step("reload mid-stream: no line lost, none twice", async () => {
        const steps = [];
        for (let i = 1; i <= 120; i++) steps.push({ text: `L-${i}` }, { sleep: 25 });
        const a = await client.agent.create({
          prompt: fakePrompt({ auto: true, steps }),
          cwd: `${work}/alpha`,
          name: "Reloaded mid-stream",
        });
        await page.goto(`${origin}/agents/${a.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        await waitTranscript(page, "L-15");
        await page.reload();
        await page.waitForSelector("html[data-ready=agent]");
        assert.notEqual(await agentState(page), "awaiting_review", "reloaded while it was running");
        await waitStatus(page, "awaiting_review", 20_000);
        await page.waitForTimeout(200);
        const vlist = page.locator(".vlist");
        const first = Number(await vlist.getAttribute("data-first-key"));
        const last = Number(await vlist.getAttribute("data-last-key"));
        assert.equal(
          Number(await vlist.getAttribute("data-rows")),
          last - first + 1,
          "contiguous rows",
        );
        // Walk the virtualised list top to bottom and read every row.
        const seen = new Map<number, string>();
        await vlist.evaluate((el) => (el.scrollTop = 0));
        for (let i = 0; i < 200; i++) {
          const rows = await page.locator(".vlist article.entry").evaluateAll((els) =>
            els.map((e) =>
              [
                Number(e.getAttribute("data-seq")),
                // The line's content, without the row's controls ("Fork from here").
                [...e.querySelector(".entry-body")!.children]
                  .filter((c) => !c.matches(".entry-fork, .fork-box"))
                  .map((c) => c.textContent ?? "").join(""),
              ] as [number, string]
            )
          );
          for (const [seq, text] of rows) seen.set(seq, text.trim());
          const done = await vlist.evaluate((el) => {
            const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
            el.scrollTop += el.clientHeight * 0.8;
            return end;
          });
          if (done) break;
          await page.waitForTimeout(30);
        }
        const texts = [...seen.values()].filter((s) => /^L-\d+$/.test(s));
        assert.equal(texts.length, 120, `saw ${texts.length} L- lines`);
        assert.deepEqual(
          texts.map((s) => Number(s.slice(2))).sort((x, y) => x - y),
          Array.from({ length: 120 }, (_, i) => i + 1),
        );
        const seqs = [...seen.keys()].sort((x, y) => x - y);
        assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      });

      await t.step("mounted under a router prefix: links, assets, RPC and events", async () => {
        const { page: p, watch: w } = await watchedPage(ctx);
        try {
          await p.goto(proxy.url);
          await p.waitForSelector(".dashboard[data-state=ready]");
          await p.waitForSelector("[data-connection=open]");
          assert.equal(await p.getAttribute('meta[name="hero-base"]', "content"), PREFIX);
          await p.fill("#na-prompt", "via the router");
          await p.fill("#na-cwd", `${work}/alpha`);
          await p.press("#na-prompt", "Control+Enter");
          const link = p.locator(".form-ok a");
          await link.waitFor();
          const id = (await link.getAttribute("href"))!.split("/").pop()!;
          await p.locator(`.card[data-agent-id="${id}"] .card-name`).click();
          await p.waitForURL(`${proxy.origin}${PREFIX}/agents/${id}`);
          await p.waitForSelector("html[data-ready=agent]");
          await waitTranscript(p, "via the router");
          await waitStatus(p, "awaiting_review");
          await p.click("a.back");
          await p.waitForURL(`${proxy.origin}${PREFIX}/`);
          await p.waitForSelector("[data-connection=open]");
          const sources = await p.evaluate(() =>
            (globalThis as unknown as { __eventSources: { sources: number } }).__eventSources
              .sources
          );
          assert.equal(sources, 1, "one EventSource on the page");
          // T31 through the router path: cross-site and non-JSON posts never reach the server.
          const attempts: Array<[Record<string, string>, number]> = [
            [{ "content-type": "application/json", origin: "https://evil.example" }, 403],
            [{ "content-type": "application/json", "sec-fetch-site": "cross-site" }, 403],
            [{ "content-type": "text/plain" }, 415],
          ];
          for (const [headers, status] of attempts) {
            const r = await fetch(`${proxy.origin}${PREFIX}/rpc`, {
              method: "POST",
              headers,
              body: JSON.stringify({
                jsonrpc: "2.0",
                id: 1,
                method: "agent.create",
                params: { prompt: "csrf", cwd: `${work}/alpha` },
              }),
            });
            await r.body?.cancel();
            assert.equal(r.status, status, JSON.stringify(headers));
          }
          const outside = w.requests.filter((u) => !u.startsWith(`${proxy.origin}${PREFIX}/`));
          assert.deepEqual(outside, [], "every request stays under the prefix");
          assert.deepEqual(w.errors, []);
        } finally {
          await p.close();
        }
      });

      await t.step("XSS corpus in prompts, names and agent output runs nothing", async () => {
        const corpus = [
          `<img src=x onerror="window.__pwned=1;alert(1)">`,
          `<script>window.__pwned=2</script>`,
          `[click me](javascript:window.__pwned=3) [data](data:text/html,<script>alert(1)</script>)`,
          `<a href="javascript:alert(4)">x</a> <svg onload=alert(5)></svg>`,
          `![beacon](${beaconUrl}/beacon.png?secret=s3cr3t) ![local](/health)`,
          `\x1b[2J\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07osc8 link\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07done`,
          `\u202Eexe.txt\u202C and \u2066isolate\u2069`,
          "`<img src=x onerror=alert(6)>` in code",
          "```html\n<script>alert(7)</script>\n```",
          `<iframe src="javascript:alert(8)"></iframe><style>body{display:none}</style>`,
          `<details open ontoggle=alert(9)>`,
        ].join("\n\n");
        // Through the form: the fake claude answers with the prompt verbatim.
        await page.goto(`${origin}/`);
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.fill("#na-prompt", corpus);
        await page.fill("#na-cwd", `${work}/alpha`);
        await page.fill("#na-name", `<img src=x onerror=alert(10)>\u202Egnp.exe`);
        await page.press("#na-prompt", "Control+Enter");
        await page.locator(".form-ok a").waitFor();
        const echoed = (await page.locator(".form-ok a").getAttribute("href"))!.split("/").pop()!;
        // Through tools, thinking, results, unparsable lines and API errors.
        const toolLine = (block: unknown) => ({
          line: {
            type: "assistant",
            message: { role: "assistant", content: [block] },
            session_id: "{{session_id}}",
          },
        });
        const tools = await client.agent.create({
          prompt: fakePrompt({
            auto: true,
            steps: [
              toolLine({ type: "thinking", thinking: corpus }),
              {
                toolUse: {
                  name: "Bash",
                  id: "b1",
                  input: { command: `echo '<img src=x onerror=alert(11)>'`, description: corpus },
                },
              },
              { toolResult: corpus, toolUseId: "b1" },
              {
                toolUse: {
                  name: "Write",
                  id: "w1",
                  input: { file_path: "/tmp/<img src=x onerror=alert(12)>", content: corpus },
                },
              },
              { toolResult: "<script>alert(13)</script>", toolUseId: "w1", isError: true },
              {
                toolUse: {
                  name: "Edit",
                  id: "e1",
                  input: {
                    file_path: "/x\u202E.ts",
                    old_string: corpus,
                    new_string: `${corpus}\n<b>new</b>`,
                  },
                },
              },
              { toolResult: "ok", toolUseId: "e1" },
              {
                toolUse: {
                  name: "<img src=x onerror=alert(14)>",
                  id: "x1",
                  input: { "<k>": corpus },
                },
              },
              { line: `not json <img src=x onerror=alert(15)> \x1b]52;c;ZXZpbA==\x07` },
              { text: corpus },
            ],
          }),
          cwd: `${work}/alpha`,
          name: "Tools <script>alert(16)</script>",
        });
        await waitFor(
          "tools agent",
          async () => (await client.agent.get({ id: tools.id })).status !== "running",
          15_000,
        );
        await page.goto(`${origin}/`);
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.locator(`.card[data-agent-id="${echoed}"]`).waitFor();
        assert.match(
          await page.locator(`.card[data-agent-id="${echoed}"] .card-name`).innerText(),
          /<img src=x onerror=alert\(10\)><U\+202E>gnp\.exe/,
        );
        for (const id of [echoed, tools.id]) {
          await page.goto(`${origin}/agents/${id}`);
          await page.waitForSelector("html[data-ready=agent]");
          await page.waitForTimeout(300);
          // open every collapsed part and every raw view in the window, top to bottom
          const vlist = page.locator(".vlist");
          await vlist.evaluate((el) => (el.scrollTop = 0));
          for (let i = 0; i < 40; i++) {
            await page.evaluate(() => {
              for (const d of document.querySelectorAll("details")) {
                (d as HTMLDetailsElement).open = true;
              }
            });
            const done = await vlist.evaluate((el) => {
              const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
              el.scrollTop += el.clientHeight * 0.8;
              return end;
            });
            await page.waitForTimeout(50);
            if (done) break;
          }
          // Dispatched, not clicked at a point: the list has been scrolled to its end, and which
          // of the rendered rows a pointer could reach depends on the page's height.
          for (const b of (await page.locator(".entry-raw").all()).slice(0, 6)) {
            await b.dispatchEvent("click");
          }
          await page.waitForTimeout(100);
          const dom = await page.evaluate(() => ({
            dangerous: document.querySelectorAll(
              "main img, main script, main iframe, main svg, main style, main object, main embed",
            ).length,
            jsLinks:
              document.querySelectorAll('a[href^="javascript:" i], a[href^="data:" i]').length,
            handlers: [...document.querySelectorAll("main *")].filter((e) =>
              [...e.attributes].some((a) =>
                a.name.startsWith("on")
              )
            ).length,
            text: document.querySelector("main")!.textContent ?? "",
          }));
          assert.equal(dom.dangerous, 0, `${id}: dangerous elements`);
          assert.equal(dom.jsLinks, 0, `${id}: javascript: links`);
          assert.equal(dom.handlers, 0, `${id}: event handler attributes`);
          assert.ok(!dom.text.includes("\x1b"), `${id}: raw escape characters`);
          assert.ok(!dom.text.includes("\u202E"), `${id}: a raw bidi override`);
          assert.ok(dom.text.includes("<U+202E>"), `${id}: bidi shown`);
        }
        const text = await transcriptText(page);
        assert.ok(text.includes("osc8 link"), "OSC 8 text kept, link dropped");
        const sec = await security(page);
        assert.equal(sec.alerts, 0);
        assert.equal(sec.pwned, null);
        assert.deepEqual(sec.violations, []);
        assert.equal(watch.dialogs, 0);
        assert.equal(beaconHits, 0, "no image beacon was loaded");
        const offsite = watch.requests.filter((u) => !u.startsWith(`${origin}/`));
        assert.deepEqual(offsite, []);
        const all = (await client.agent.list({ limit: 500 })).agents;
        assert.ok(!all.some((a) => a.prompt === "csrf"), "no cross-site agent was created");
        await page.screenshot({ path: `${SCREENSHOTS}/agent_xss.png` });
      });

      await t.step(
        "first screen at 100k stored lines, older lines on scroll, virtualised",
        async () => {
          const done = await waitFor("100k lines stored", async () => {
            const a = await client.agent.get({ id: big.id });
            return a.status === "awaiting_review" ? a : undefined;
          }, 60_000);
          assert.equal(done.last_seq, 100_003); // init, prompt echo, 100k lines, result
          const url = `${origin}/agents/${big.id}`;
          await page.goto(url); // warm: scripts compiled and cached
          await page.waitForSelector("html[data-ready=agent]");
          const times: number[] = [];
          for (let i = 0; i < 5; i++) {
            await page.goto(url);
            await page.waitForSelector("html[data-ready=agent]");
            times.push(
              await page.evaluate(() =>
                performance.getEntriesByName("hero:first-screen")[0]!.startTime
              ),
            );
          }
          times.sort((a, b) => a - b);
          console.log(
            `first screen at 100k lines: ${times.map((x) => x.toFixed(0)).join(", ")} ms`,
          );
          // The figure is the bench's (timings belong there); here only a bound no design that
          // read the whole transcript could meet on any machine, with room for a loaded one.
          assert.ok(times[2]! <= 3_000, `median first screen ${times[2]} ms`);
          const vlist = page.locator(".vlist");
          assert.ok(
            Number(await vlist.getAttribute("data-rows")) <= 200,
            "only the newest page was read",
          );
          assert.equal(Number(await vlist.getAttribute("data-last-key")), 100_003);
          assert.ok(await page.locator(".vrow").count() < 60, "virtualised");
          const firstBefore = Number(await vlist.getAttribute("data-first-key"));
          for (let i = 0; i < 4; i++) {
            await vlist.evaluate((el) => (el.scrollTop = 0));
            await page.waitForTimeout(250);
          }
          const firstAfter = Number(await vlist.getAttribute("data-first-key"));
          assert.ok(
            firstAfter < firstBefore - 300,
            `older pages loaded: ${firstBefore} → ${firstAfter}`,
          );
          assert.ok(await page.locator(".vrow").count() < 80, "still virtualised");
          assert.ok(
            await vlist.evaluate((el) => el.scrollTop > 0),
            "the view stayed put while older lines came in",
          );
        },
      );

      await t.step("one copy of Preact is loaded, all scripts from this origin", async () => {
        const scripts = await page.evaluate(() =>
          performance.getEntriesByType("resource").map((r) => r.name).filter((n) =>
            n.endsWith(".js")
          )
        );
        assert.ok(scripts.length >= 3);
        let copies = 0;
        for (const src of scripts) {
          assert.ok(src.startsWith(`${origin}/assets/`), src);
          const body = await page.evaluate(async (u) => await (await fetch(u)).text(), src);
          copies += body.split(PREACT_MARKER).length - 1;
        }
        assert.equal(copies, 1);
      });

      await t.step(
        "screenshots of the dashboard and an agent page (light, dark, phone)",
        async () => {
          const demo = await client.agent.create({
            prompt: fakePrompt({
              auto: true,
              steps: [
                toolThinking(
                  "The parser splits on \\n only; CRLF input breaks it. Check the tests first.",
                ),
                {
                  text:
                    "I'll look at the parser first.\n\n1. **Read** `core/claude/stream_parser.ts`\n2. Fix the CRLF handling\n3. Run the tests",
                },
                {
                  toolUse: {
                    name: "Bash",
                    id: "b1",
                    input: {
                      command: "deno test core/claude/",
                      description: "Run the parser tests",
                    },
                  },
                },
                {
                  toolResult:
                    "running 12 tests from ./core/claude/stream_parser_test.ts\n\x1b[31mFAILED\x1b[0m splits CRLF lines\nok | 11 passed | 1 failed",
                  toolUseId: "b1",
                  isError: true,
                },
                {
                  toolUse: {
                    name: "Edit",
                    id: "e1",
                    input: {
                      file_path: `${work}/alpha/core/claude/stream_parser.ts`,
                      old_string: 'const lines = text.split("\\n");\nreturn lines;',
                      new_string:
                        'const lines = text.split(/\\r?\\n/);\nreturn lines.filter((l) => l !== "");',
                    },
                  },
                },
                { toolResult: "The file has been updated.", toolUseId: "e1" },
                {
                  text:
                    "Fixed: lines now split on `\\r?\\n`.\n\n| test | before | after |\n|---|---|---|\n| CRLF | failed | passed |\n| LF | passed | passed |",
                },
                { sleep: 60_000 },
              ],
            }),
            cwd: `${work}/alpha`,
            name: "Fix CRLF handling in the stream parser",
          });
          await client.agent.create({
            prompt: fakePrompt({
              auto: true,
              steps: [{ text: "Queued work, still thinking about the plan…" }, { sleep: 60_000 }],
            }),
            cwd: `${work}/beta`,
            name: "Write the migration guide",
          });
          await client.agent.create({
            prompt: fakePrompt({ auto: true, steps: [{ apiError: 529 }] }),
            cwd: `${work}/beta`,
            name: "Bump dependencies",
          });
          await waitFor(
            "demo output",
            async () => (await client.agent.get({ id: demo.id })).last_seq >= 7,
          );
          await page.goto(`${origin}/`);
          await page.waitForSelector(".dashboard[data-state=ready]");
          await page.waitForTimeout(400);
          await page.screenshot({ path: `${SCREENSHOTS}/dashboard.png` });
          await page.goto(`${origin}/agents/${demo.id}`);
          await page.waitForSelector("html[data-ready=agent]");
          await page.evaluate(() => {
            for (const d of document.querySelectorAll(".tool")) {
              (d as HTMLDetailsElement).open = true;
            }
          });
          await page.waitForTimeout(300);
          await page.locator(".vlist").evaluate((el) => (el.scrollTop = el.scrollHeight));
          await page.waitForTimeout(200);
          await page.screenshot({ path: `${SCREENSHOTS}/agent.png` });
          await page.goto(`${origin}/agents/${streamer}`);
          await page.waitForSelector("html[data-ready=agent]");
          await page.waitForTimeout(200);
          await page.screenshot({ path: `${SCREENSHOTS}/agent_review.png` });
          await page.goto(`${origin}/agents/${demo.id}`);
          await page.waitForSelector("html[data-ready=agent]");
          await page.click(".theme-toggle"); // auto → light
          await page.click(".theme-toggle"); // light → dark
          assert.equal(await page.getAttribute("html", "data-theme"), "dark");
          await page.reload(); // the theme is remembered (cookie, no flash)
          assert.equal(await page.getAttribute("html", "data-theme"), "dark");
          await page.waitForSelector("html[data-ready=agent]");
          await page.evaluate(() => {
            for (const d of document.querySelectorAll(".tool")) {
              (d as HTMLDetailsElement).open = true;
            }
          });
          await page.waitForTimeout(300);
          await page.screenshot({ path: `${SCREENSHOTS}/agent_dark.png` });
          await page.goto(`${origin}/`);
          await page.waitForSelector(".dashboard[data-state=ready]");
          await page.waitForTimeout(300);
          await page.screenshot({ path: `${SCREENSHOTS}/dashboard_dark.png` });
          await page.click(".theme-toggle"); // dark → auto
          const phone = await browser.newContext({
            viewport: { width: 390, height: 844 },
            isMobile: true,
            hasTouch: true,
          });
          await phone.addCookies(await ctx.cookies());
          const mobile = await phone.newPage();
          await mobile.goto(`${origin}/`);
          await mobile.waitForSelector(".dashboard[data-state=ready]");
          await mobile.waitForTimeout(300);
          await mobile.screenshot({ path: `${SCREENSHOTS}/dashboard_phone.png`, fullPage: true });
          const overflow = await mobile.evaluate(() =>
            document.documentElement.scrollWidth - innerWidth
          );
          assert.ok(overflow <= 1, `no horizontal scrolling on a phone (${overflow}px)`);
          await mobile.goto(`${origin}/agents/${demo.id}`);
          await mobile.waitForSelector("html[data-ready=agent]");
          await mobile.waitForTimeout(300);
          await mobile.screenshot({ path: `${SCREENSHOTS}/agent_phone.png` });
          await phone.close();
          await client.agent.cancel({ id: demo.id });
        },
      );

      assert.deepEqual(watch.errors, [], "no page errors");
      console.log(`browser suite: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await browser.close();
      await listen.shutdown();
      await onSocket.shutdown();
      await beacon.shutdown();
    }
  },
});

function toolThinking(text: string) {
  return {
    line: {
      type: "assistant",
      message: { role: "assistant", content: [{ type: "thinking", thinking: text }] },
      session_id: "{{session_id}}",
    },
  };
}

export type { Agent };
