/**
 * Usage telemetry, shadows and the commit action in headless Chromium, against a real server
 * whose quota proxy (scope `all`) forwards to the mock Anthropic API. A fake claude agent makes a
 * real request through the proxy (its own socket, base URL and token, as a claude child gets
 * them); the mock answers with `anthropic-ratelimit-unified-*` headers, so every figure the page
 * shows was recorded by the server: the header's 5-hour/weekly headroom and reset times, the
 * burn-rate sparkline and today's cost (live after an agent's cost moves), the agent page's proxy
 * figures, rate-limit readings and shadow agents (never on the dashboard), and "Complete &
 * commit" in real git work trees: a commit with its SHA shown, and a refusal with the server's
 * message. Screenshots go to `.ci/out/screenshots/`.
 */
import assert from "node:assert/strict";
import { type Browser, type Page } from "playwright-core";
import { fakePrompt, git, gitRepo, sseResponse, startMockAnthropic } from "@hero/core/testing";
import type { UsageReport } from "@hero/sdk";
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
import { formatCost } from "@hero/admin-web/lib/format";
import { formatBytes, formatReset } from "@hero/admin-web/lib/usage";

// Browser globals used inside page.evaluate() (this file is checked without the DOM lib).
// deno-lint-ignore no-explicit-any
declare const document: any;
declare const innerWidth: number;
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string };

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;
const API_KEY = "sk-ant-api03-usage-browser-test-key";

function available(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function which(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => available(`${dir}/${cmd}`));
}

/**
 * A shell command for the fake claude's `spawnWait`: one streamed Messages request through the
 * quota proxy with the agent's own credentials (the token goes through stdin, never argv).
 */
const CALL_THROUGH_PROXY = [
  `printf 'header = "authorization: Bearer %s"\\n' "$ANTHROPIC_AUTH_TOKEN"`,
  `| curl -sS -o /dev/null -K - --unix-socket "$ANTHROPIC_UNIX_SOCKET"`,
  `-H 'content-type: application/json' -H 'anthropic-version: 2023-06-01'`,
  `--data '{"model":"claude-haiku-4-5","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}'`,
  `"$ANTHROPIC_BASE_URL/v1/messages?beta=true"`,
].join(" ");

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, " ").trim();
}

Deno.test({
  name: "admin in Chromium: usage header, agent proxy figures, shadows, complete & commit",
  ignore: !available(CHROMIUM) || !which("curl") || !which("git"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    const nowSec = Math.floor(Date.now() / 1000);
    const reset5h = (nowSec + 2 * 3600 + 600) * 1000;
    const reset7d = (nowSec + 3 * 86_400 + 7200) * 1000;
    await using mock = await startMockAnthropic({
      handler: (req) => {
        if (req.method !== "POST" || !req.path.endsWith("/v1/messages")) return undefined;
        const res = sseResponse({ blocks: [{ type: "text", text: "hi from the mock" }] });
        res.headers.set("anthropic-ratelimit-unified-status", "allowed");
        res.headers.set("anthropic-ratelimit-unified-5h-status", "allowed");
        res.headers.set("anthropic-ratelimit-unified-5h-utilization", "0.42");
        res.headers.set("anthropic-ratelimit-unified-5h-reset", String(reset5h / 1000));
        res.headers.set("anthropic-ratelimit-unified-7d-status", "allowed");
        res.headers.set("anthropic-ratelimit-unified-7d-utilization", "0.1");
        res.headers.set("anthropic-ratelimit-unified-7d-reset", String(reset7d / 1000));
        res.headers.set("anthropic-ratelimit-unified-representative-claim", "five_hour");
        return res;
      },
    });
    await using env = await tempEnv({
      HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
      HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
      ANTHROPIC_API_KEY: API_KEY,
      HERO_ORCHESTRATOR_SHADOWS: "naming,commit",
    });
    const plain = `${env.work}/plain`;
    const repo = `${env.work}/repo`;
    const dirty = `${env.work}/dirty`;
    await Deno.mkdir(plain);
    await gitRepo(repo);
    await gitRepo(dirty);
    await using server = await startInProcess(env.env);
    const client = server.client;
    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const origin = admin.address;

    const browser: Browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(() => {
      const w = globalThis as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener(
        "securitypolicyviolation",
        (e: { violatedDirective: string; blockedURI: string }) =>
          w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource|ERR_ABORTED/.test(m.text())) {
        errors.push(`console: ${m.text()}`);
      }
    });
    const violations = () =>
      page.evaluate(() => (globalThis as unknown as { __violations: string[] }).__violations);

    const reviewed = (id: string) =>
      waitFor("awaiting_review", async () => {
        const a = await client.agent.get({ id });
        return a.status === "awaiting_review" ? a : undefined;
      }, 30_000);

    try {
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");

      // One agent calls the API through the proxy and reports a cost of its own.
      const proxied = await client.agent.create({
        prompt: fakePrompt({
          auto: true,
          steps: [
            { spawnWait: CALL_THROUGH_PROXY },
            { text: "called the API" },
            { result: { total_cost_usd: 0.37 } },
          ],
        }),
        cwd: plain,
        name: "Proxied call",
      });
      await reviewed(proxied.id);
      const report: UsageReport = await waitFor("the rate-limit snapshot", async () => {
        const r = await client.usage.get({ period: "today" });
        return r.rate_limit ? r : undefined;
      });
      assert.equal(mock.messageRequests().length, 1);
      assert.equal(mock.messageRequests()[0]!.headers["x-api-key"], API_KEY);
      assert.equal(report.rate_limit!.agent_id, proxied.id);

      await t.step("the header shows headroom, resets, burn rate and cost today", async () => {
        await page.reload();
        await page.waitForSelector(".dashboard[data-state=ready]");
        const five = page.locator(".usage-win[data-window='5h']");
        await five.locator(".usage-left", { hasText: "58%" }).waitFor();
        assert.equal(await five.getAttribute("data-left"), "0.5800");
        assert.equal(
          await text(page, ".usage-win[data-window='5h'] .usage-reset"),
          `resets ${formatReset(reset5h, Date.now())}`,
        );
        assert.equal(await text(page, ".usage-win[data-window='7d'] .usage-left"), "90%");
        assert.equal(
          await text(page, ".usage-win[data-window='7d'] .usage-reset"),
          `resets ${formatReset(reset7d, Date.now())}`,
        );
        assert.match(
          (await five.getAttribute("title"))!,
          /5-hour window · 58% left \(42% used\) · resets .* · allowed · from the quota proxy/,
        );
        // Today's cost and the sparkline are the server's figures.
        await waitFor("the same figures as usage.get", async () => {
          const r = await client.usage.get({ period: "today" });
          const shown = await text(page, "[data-testid=usage-today]");
          const values = await page.locator(".usage-summary .spark").getAttribute("data-values");
          const expected = r.series.buckets.map((b) => b.cost_usd.toFixed(6)).join(" ");
          return shown === formatCost(r.cost_today_usd) && values === expected;
        });
        assert.ok(report.cost_today_usd >= 0.37, `cost today ${report.cost_today_usd}`);
        assert.equal(await text(page, "[data-testid=usage-today]"), "$0.37");
        const spark = page.locator(".usage-summary .spark");
        assert.equal(report.series.buckets.length, 24);
        assert.match((await spark.getAttribute("aria-label"))!, /this hour \$0\.37/);
        assert.equal(await spark.locator("polyline").count(), 1);
        // The details panel: both windows, the sources, the proxy's scope and credential kind.
        await page.click(".usage-summary");
        await page.locator(".usage-pop").waitFor();
        assert.match(
          await text(page, "[data-detail-window='5h']"),
          /58% left · resets .* \(in 2h \d\dm\)/,
        );
        assert.match(await text(page, "[data-detail-window='7d']"), /90% left · resets/);
        assert.equal(await text(page, "[data-testid=usage-poll]"), "disabled");
        assert.equal(await text(page, "[data-testid=usage-scope]"), "all");
        assert.match(await text(page, ".usage-pop"), /credential api_key \(ANTHROPIC_API_KEY\)/);
        assert.match(
          await text(page, ".usage-pop"),
          /HTTP 200 · .* · allowed · bound by five_hour/,
        );
        assert.ok(!(await text(page, ".usage-pop")).includes(API_KEY));
        await page.screenshot({ path: `${SCREENSHOTS}/usage_header.png` });
        await page.keyboard.press("Escape");
        await page.locator(".usage-pop").waitFor({ state: "detached" });
      });

      await t.step("the cost today follows an agent's cost without a reload", async () => {
        await client.agent.create({
          prompt: fakePrompt({ auto: true, steps: [{ result: { total_cost_usd: 0.25 } }] }),
          cwd: plain,
          name: "Costs a quarter",
        });
        await page.locator("[data-testid=usage-today]", { hasText: "$0.62" }).waitFor({
          timeout: 10_000,
        });
      });

      let committer = "";
      await t.step("the agent page shows the proxy's figures for the agent", async () => {
        await page.goto(`${origin}/agents/${proxied.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        const mine = (await client.usage.get({ agent_id: proxied.id })).agent!;
        const px = mine.proxy!;
        assert.equal(px.requests, 1);
        assert.equal(px.last_status, 200);
        await page.locator("[data-testid=proxy-summary]", {
          hasText: "1 request · 0 errors · last HTTP 200",
        }).waitFor();
        await page.click("[data-panel=usage] summary");
        const stats = await text(page, "[data-testid=proxy-stats]");
        assert.match(stats, /Requests 1 /i);
        assert.match(stats, /Errors 0 /i);
        assert.match(
          stats,
          new RegExp(`Tokens ${px.input_tokens} in · ${px.output_tokens} out`, "i"),
        );
        assert.match(stats, /Last status HTTP 200/i);
        assert.ok(px.bytes_in > 0 && px.bytes_out > 0);
        const bytes = `bytes ${formatBytes(px.bytes_in)} up · ${formatBytes(px.bytes_out)} down`;
        assert.ok(stats.toLowerCase().includes(bytes.toLowerCase()), stats);
        assert.match(await text(page, "[data-testid=cli-usage]"), /Turns 1 .* Cost \$0\.37/i);
        const rows = page.locator("[data-testid=snapshots] tbody tr");
        assert.equal(await rows.count(), mine.snapshots.length);
        assert.match(
          await rows.first().innerText(),
          /POST \S*\/v1\/messages\S*\s+200\s+allowed\s+42% used\s+10% used/,
        );
        await page.screenshot({ path: `${SCREENSHOTS}/agent_proxy.png` });
        assert.deepEqual(await violations(), []);
      });

      await t.step("Complete & commit in a git work tree commits and shows the SHA", async () => {
        const agent = await client.agent.create({
          prompt: fakePrompt({
            auto: true,
            steps: [{ spawnWait: "printf 'hello\\n' > hello.txt" }, { text: "wrote hello.txt" }],
          }),
          cwd: repo,
          // The commit lands in the user's checkout: the agent works in it. An agent in a
          // worktree of its own is reviewed and merged instead (admin/review_browser_test.ts).
          isolation: "none",
        });
        committer = agent.id;
        await reviewed(agent.id);
        const info = await waitFor("the commit proposal", async () => {
          const i = await client.agent.commitInfo({ id: agent.id });
          return i.proposal && !i.shadow_pending ? i : undefined;
        });
        assert.deepEqual(info.proposal!.files, ["hello.txt"]);
        const headBefore = await git(repo, "rev-parse", "HEAD");
        await page.goto(`${origin}/agents/${agent.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        // The proposal is open while the agent awaits review.
        const message = page.locator("[data-testid=commit-message]");
        await message.waitFor();
        assert.equal(await message.innerText(), info.proposal!.message);
        assert.match(await text(page, "[data-panel=commit] .commit-files"), /hello\.txt/);
        // Its shadows are listed (and linked), not on the dashboard.
        await page.locator("[data-testid=shadow-count]", { hasText: "2" }).waitFor();
        await page.click("[data-panel=shadows] summary");
        const shadows = (await client.agent.list({ parent_id: agent.id })).agents;
        assert.deepEqual(shadows.map((s) => s.name).sort(), ["commit shadow", "naming shadow"]);
        for (const s of shadows) {
          const li = page.locator(`.shadow-list li[data-shadow-id="${s.id}"]`);
          assert.equal(await li.locator(".shadow-name").innerText(), s.name);
          assert.equal(await li.locator(".shadow-name").getAttribute("href"), `/agents/${s.id}`);
          assert.equal(await li.locator(".badge").getAttribute("data-status"), s.status);
        }
        await page.click("[data-action=commit]");
        const done = page.locator("[data-testid=commit-done]");
        await done.waitFor();
        const sha = await git(repo, "rev-parse", "HEAD");
        assert.notEqual(sha, headBefore);
        assert.equal(await page.locator("[data-testid=commit-sha]").getAttribute("title"), sha);
        assert.equal(await page.locator("[data-testid=commit-sha]").innerText(), sha.slice(0, 12));
        assert.equal(await git(repo, "log", "-1", "--format=%B"), info.proposal!.message.trim());
        assert.equal(await git(repo, "show", "--format=", "--name-only", "HEAD"), "hello.txt");
        assert.equal(await git(repo, "status", "--porcelain"), "");
        await page.waitForSelector(".agent-title .badge[data-status=completed]");
        await page.locator("[data-testid=commit-state]", { hasText: sha.slice(0, 12) }).waitFor();
        await page.screenshot({ path: `${SCREENSHOTS}/agent_commit.png` });
        assert.deepEqual(await violations(), []);
      });

      await t.step("a shadow's page links to its parent; the dashboard hides shadows", async () => {
        const [shadow] = (await client.agent.list({ parent_id: committer })).agents;
        await page.click(`.shadow-list li[data-shadow-id="${shadow!.id}"] .shadow-name`);
        await page.waitForURL(`${origin}/agents/${shadow!.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        assert.equal(
          await page.getAttribute("[data-testid=parent-link]", "href"),
          `/agents/${committer}`,
        );
        await page.goto(`${origin}/`);
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.locator(`.card[data-agent-id="${committer}"]`).waitFor();
        const names = await page.locator(".card .card-name").allInnerTexts();
        assert.ok(!names.some((n) => /shadow/.test(n)), `shadow cards: ${names.join(", ")}`);
        // A shadow that starts while the dashboard is open stays off it too.
        const unnamed = await client.agent.create({ prompt: "name me", cwd: plain });
        await page.locator(`.card[data-agent-id="${unnamed.id}"]`).waitFor();
        await waitFor(
          "its naming shadow",
          async () => (await client.agent.list({ parent_id: unnamed.id })).agents.length > 0,
        );
        await page.waitForTimeout(300);
        for (const s of (await client.agent.list({ parent_id: unnamed.id })).agents) {
          assert.equal(await page.locator(`.card[data-agent-id="${s.id}"]`).count(), 0);
        }
      });

      await t.step("a refused commit shows the server's reason and changes nothing", async () => {
        await Deno.writeTextFile(`${dirty}/a.txt`, "a\nmine\n");
        const agent = await client.agent.create({
          prompt: fakePrompt({
            auto: true,
            steps: [
              // a.txt already had uncommitted changes; b.txt is new.
              { spawnWait: "printf 'agent\\n' > a.txt; printf 'b\\n' > b.txt" },
              { text: "edited a.txt, added b.txt" },
            ],
          }),
          cwd: dirty,
          isolation: "none", // it edits the user's dirty checkout itself
          name: "Edits a dirty file",
        });
        await reviewed(agent.id);
        const info = await waitFor("the commit proposal", async () => {
          const i = await client.agent.commitInfo({ id: agent.id });
          return i.proposal && !i.shadow_pending ? i : undefined;
        });
        assert.deepEqual(info.proposal!.files, ["b.txt"]);
        const head = await git(dirty, "rev-parse", "HEAD");
        await page.goto(`${origin}/agents/${agent.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        await page.click("[data-action=commit]");
        const refused = page.locator("[data-testid=commit-refused]");
        await refused.waitFor();
        assert.match(await refused.innerText(), /already had uncommitted changes/);
        assert.match(await refused.innerText(), /a\.txt/);
        assert.equal(await git(dirty, "rev-parse", "HEAD"), head);
        assert.equal((await client.agent.get({ id: agent.id })).status, "awaiting_review");
        assert.equal(
          await page.locator(".agent-title .badge").getAttribute("data-status"),
          "awaiting_review",
        );
        await page.screenshot({ path: `${SCREENSHOTS}/agent_commit_refused.png` });
      });

      await t.step("dark theme: the meter and the panels stay readable", async () => {
        const colors = () =>
          page.evaluate(() => {
            const style = getComputedStyle(document.body);
            return [style.backgroundColor, style.color];
          });
        const LIGHT = ["rgb(246, 247, 249)", "rgb(27, 34, 48)"];
        const DARK = ["rgb(15, 18, 23)", "rgb(230, 233, 239)"];
        await page.goto(`${origin}/agents/${proxied.id}`);
        await page.waitForSelector("html[data-ready=agent]");
        // auto follows the system, both ways.
        assert.equal(await page.getAttribute("html", "data-theme"), "auto");
        await page.emulateMedia({ colorScheme: "dark" });
        assert.deepEqual(await colors(), DARK);
        await page.emulateMedia({ colorScheme: "light" });
        assert.deepEqual(await colors(), LIGHT);
        await page.emulateMedia({ colorScheme: "dark" });
        await page.click(".theme-toggle"); // auto → light, whatever the system says
        assert.deepEqual(await colors(), LIGHT);
        await page.emulateMedia({ colorScheme: "light" });
        await page.click(".theme-toggle"); // light → dark, whatever the system says
        assert.equal(await page.getAttribute("html", "data-theme"), "dark");
        assert.deepEqual(await colors(), DARK);
        await page.click("[data-panel=usage] summary");
        await page.locator("[data-testid=proxy-stats]").waitFor();
        await page.click(".usage-summary");
        await page.locator(".usage-pop").waitFor();
        await page.screenshot({ path: `${SCREENSHOTS}/usage_dark.png` });
        await page.click(".theme-toggle"); // dark → auto
      });

      await t.step("on a phone the header fits", async () => {
        const phone = await browser.newContext({
          viewport: { width: 390, height: 844 },
          isMobile: true,
          hasTouch: true,
        });
        try {
          await phone.addCookies(await ctx.cookies());
          const mobile = await phone.newPage();
          await mobile.goto(`${origin}/agents/${proxied.id}`);
          await mobile.waitForSelector("html[data-ready=agent]");
          await mobile.locator(".usage-win[data-window='5h'] .usage-left", { hasText: "58%" })
            .waitFor();
          const overflow = await mobile.evaluate(() =>
            document.documentElement.scrollWidth - innerWidth
          );
          assert.ok(overflow <= 1, `no horizontal scrolling on a phone (${overflow}px)`);
          await mobile.click(".usage-summary");
          await mobile.locator(".usage-pop").waitFor();
          await mobile.screenshot({ path: `${SCREENSHOTS}/usage_phone.png` });
        } finally {
          await phone.close();
        }
      });

      assert.deepEqual(errors, [], "no page errors");
      assert.deepEqual(await violations(), []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
