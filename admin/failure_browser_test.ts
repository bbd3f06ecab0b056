/**
 * A failure's code and fix on every surface a person looks at, in headless Chromium against a
 * real server (fake claude, no credential): the form's outcome, the dashboard card, the agent
 * page and the widget; a cancel is said plainly, not as a red error. Screenshots in
 * `.ci/out/screenshots/`.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { fakePrompt } from "@hero/core/testing";
import { errorFix } from "@hero/core/models";
import { startAdmin } from "./main.ts";
import { noLog } from "@hero/service/log";
import { launchChromium, REPO_ROOT, startInProcess, tempDist, tempEnv } from "./testing/harness.ts";
import { chromiumAvailable, startWidgetStack } from "./testing/widget_stack.ts";

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;
/** The API refuses the request (401) while the server holds no credential at all. */
const REFUSED = fakePrompt([{ init: true }, { apiError: 401 }]);
const FIX = errorFix("not_logged_in")!;

async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

Deno.test({
  name: "failure fixes in Chromium: the form, the card and the agent page; a cancel is no error",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using env = await tempEnv();
    await using server = await startInProcess(env.env);
    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } }))
      .newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");

      await t.step("the form and the card say not_logged_in and how to fix it", async () => {
        await page.fill("#na-prompt", REFUSED);
        await page.fill("#na-cwd", env.work);
        await page.click("button[type=submit]");
        const outcome = page.locator("[data-testid=form-outcome][data-status=failed]");
        await outcome.waitFor({ timeout: 30_000 });
        assert.equal(await outcome.locator("[data-testid=error-fix]").innerText(), `Fix: ${FIX}`);
        const card = page.locator("[data-bucket=failed] .card").first();
        await card.waitFor();
        assert.match(await card.locator("[data-testid=card-error]").innerText(), /no claude login/);
        assert.doesNotMatch(await card.innerText(), /\/login|Invalid API key/);
        assert.equal(await card.locator("[data-testid=error-fix]").innerText(), `Fix: ${FIX}`);
        assert.match(await card.locator(".badge-code").innerText(), /not_logged_in/);
        await shot(page, "failure_fix_card");
      });

      await t.step("the agent page shows the code, our message and the fix", async () => {
        await page.locator("[data-bucket=failed] .card .card-name").first().click();
        const box = page.locator("[data-testid=agent-error]");
        await box.waitFor();
        assert.match(await box.getAttribute("class") ?? "", /alert-error/);
        const text = await box.innerText();
        assert.match(text, /^not_logged_in:/);
        assert.equal(await box.locator("[data-testid=error-fix]").innerText(), `Fix: ${FIX}`);
        // The transcript says what failed, not "Turn failed (success)".
        const turnEnd = page.locator(".turn-end-error .turn-end-title").first();
        await turnEnd.waitFor();
        assert.equal(await turnEnd.innerText(), "Turn failed: the API request failed");
        // Labels in words: the proxy (scope all) saw nothing of a fake claude.
        assert.equal(
          await page.locator("[data-testid=proxy-summary]").innerText(),
          "no requests yet",
        );
        // No credential: the 5h/7d meters say why they are empty.
        const chip = page.locator(`.usage-win[data-window="5h"]`);
        assert.equal(await chip.locator(".usage-left").innerText(), "n/a");
        assert.match(await chip.getAttribute("title") ?? "", /no credential yet/);
        await shot(page, "failure_fix_agent_page");
      });

      await t.step(
        "a cancelled agent's page says Cancelled, without a red box or a fix",
        async () => {
          const agent = await server.client.agent.create({
            prompt: fakePrompt([{ init: true }, { hang: true }]),
            cwd: env.work,
          });
          await server.client.agent.cancel({ id: agent.id });
          await page.goto(new URL(`agents/${agent.id}`, admin.address).href);
          const box = page.locator("[data-testid=agent-error]");
          await box.waitFor();
          assert.match(await box.getAttribute("class") ?? "", /alert-note/);
          assert.doesNotMatch(await box.getAttribute("class") ?? "", /alert-error/);
          assert.match(await box.innerText(), /^Cancelled:/);
          assert.equal(await box.locator("[data-testid=error-fix]").count(), 0);
        },
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});

Deno.test({
  name: "failure fixes in Chromium: the widget shows the fix under a failed agent",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using stack = await startWidgetStack();
    const page = await stack.open("/hero_books/admin/");
    await page.click("#books .launcher");
    await page.locator("#books .panel").waitFor();
    await page.fill("#books textarea[name=prompt]", REFUSED);
    await page.click("#books .run");
    await page.waitForSelector('#books[data-status="failed"]', { timeout: 30_000 });
    const fix = page.locator("#books .fix-line");
    await fix.waitFor();
    assert.equal(await fix.innerText(), `Fix: ${FIX}`);
    await shot(page, "failure_fix_widget");
    assert.deepEqual(stack.errors, []);
  },
});
