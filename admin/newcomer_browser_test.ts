/**
 * A newcomer's first minutes in headless Chromium against a real server (fake claude) and the
 * admin in `--listen` mode: the readiness banner with its fix while no credential is set (and
 * gone after "Check again" once one is), an agent that fails at once shown as a failure in the
 * form and in its own "Failed" lane with its error readable in full, the one-time token refused
 * on a second use with a styled page, and a session that survives an admin restart.
 * Screenshots in `.ci/out/screenshots/`.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
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
} from "./testing/harness.ts";

// page.evaluate() callbacks run in the browser; this file is checked without the DOM lib.
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
declare function getComputedStyle(el: any): { borderRadius: string; display: string };

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;

function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

Deno.test({
  name:
    "newcomer in Chromium: readiness banner, failed lane, one-time token, session across restart",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    await using env = await tempEnv();
    await using server = await startInProcess(env.env);
    const distDir = await tempDist();
    let admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir,
    });
    const port = Number(new URL(admin.address).port);
    const openUrl = admin.openUrl!;
    const browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await t.step("no credential: the banner names the problem and its fix", async () => {
        await page.goto(openUrl);
        await page.waitForSelector(".dashboard[data-state=ready]");
        const banner = page.locator("[data-testid=readiness-banner]");
        await banner.waitFor();
        assert.equal(await banner.getAttribute("role"), "alert");
        const text = await banner.innerText();
        assert.match(text, /Agents cannot run yet/);
        assert.match(text, /Credential: no claude login/);
        assert.match(
          text,
          /Fix: As the server's user, in a terminal: `npx -y deno@2\.9\.6 task cli login`/,
        );
        assert.equal(
          await banner.locator("[data-check=binary]").count(),
          0,
          "the tested fake binary is not a problem",
        );
        await shot(page, "newcomer_readiness_banner");
      });

      const longError = `Cannot start: ${"the upstream said no. ".repeat(20)}END-OF-ERROR`;
      await t.step(
        "an agent failing at once: the form says so, the Failed lane holds it",
        async () => {
          await page.fill("#na-prompt", fakePrompt([{ stderr: longError }, { exit: 1 }]));
          await page.fill("#na-cwd", env.work);
          await page.click("button[type=submit]");
          const outcome = page.locator("[data-testid=form-outcome][data-status=failed]");
          await outcome.waitFor({ timeout: 30_000 });
          assert.equal(await outcome.getAttribute("role"), "alert");
          assert.match(await outcome.innerText(), /failed:/);
          assert.doesNotMatch(await outcome.innerText(), /^Started/);
          const lane = page.locator("[data-bucket=failed]");
          await lane.locator(".card").first().waitFor();
          assert.equal(await page.locator("[data-testid=count-failed]").innerText(), "1");
          assert.equal(await page.locator("[data-bucket=completed] .card").count(), 0);
          // The error in full: a tooltip on the cut line, and the whole text on expanding it.
          const error = lane.locator("[data-testid=card-error]");
          const summary = error.locator("summary");
          const title = await summary.getAttribute("title");
          assert.ok(title?.includes("END-OF-ERROR"), `tooltip: ${title}`);
          await summary.click();
          assert.match(await error.locator(".card-error-full").innerText(), /END-OF-ERROR/);
          await shot(page, "newcomer_failed_lane");
        },
      );

      await t.step("after logging in, Check again clears the banner", async () => {
        await Deno.mkdir(`${env.dir}/.claude`, { recursive: true });
        await Deno.writeTextFile(
          `${env.dir}/.claude/.credentials.json`,
          JSON.stringify({ claudeAiOauth: { accessToken: "sk-ant-oat01-browser" } }),
        );
        await page.getByRole("button", { name: "Check again" }).click();
        await page.locator("[data-testid=readiness-banner]").waitFor({ state: "detached" });
      });

      await t.step(
        "the one-time token is refused on its second use, with a styled page",
        async () => {
          const other = await browser.newContext();
          try {
            const p2 = await other.newPage();
            const res = await p2.goto(openUrl);
            assert.equal(res?.status(), 401);
            assert.match(await p2.locator("main").innerText(), /already used/);
            assert.match(await p2.locator("main").innerText(), /npx -y deno@2\.9\.6 task start/);
            // The stylesheet applies (the page is not the bare 401 it used to be).
            const radius = await p2.evaluate(() =>
              getComputedStyle(document.querySelector("main")).borderRadius
            );
            assert.equal(radius, "12px");
            assert.equal((await other.cookies()).length, 0, "no session for the second use");
            await shot(p2, "newcomer_token_used");
          } finally {
            await other.close();
          }
        },
      );

      await t.step("a session survives an admin restart; the old link opens nothing", async () => {
        await admin.shutdown();
        admin = await startAdmin({
          env: env.env,
          log: noLog,
          listen: { hostname: "127.0.0.1", port },
          distDir,
        });
        assert.notEqual(admin.openUrl, openUrl, "a new token per start");
        const res = await page.reload();
        assert.equal(res?.status(), 200);
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.locator("[data-bucket=failed] .card").first().waitFor();
        const fresh = await browser.newContext();
        try {
          const p3 = await fresh.newPage();
          const old = await p3.goto(openUrl);
          assert.equal(old?.status(), 401);
          assert.match(await p3.locator("main").innerText(), /not valid/);
        } finally {
          await fresh.close();
        }
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
      void server;
    }
  },
});
