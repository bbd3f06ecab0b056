/**
 * The new-agent form and the phone layout in headless Chromium against a real server (fake
 * claude): a field's message goes when the field is edited, Ctrl+Enter starts from any field, the
 * working directory defaults to the most recent one (then to this browser's last) with recent
 * ones a click away, the selects show their whole value; on a phone the agent page shows the
 * transcript in the first screen. Screenshots in `.ci/out/screenshots/`.
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { startAdmin } from "./main.ts";
import { noLog } from "@hero/service/log";
import { launchChromium, REPO_ROOT, startInProcess, tempDist, tempEnv } from "./testing/harness.ts";
import { chromiumAvailable } from "./testing/widget_stack.ts";

// page.evaluate() callbacks run in the browser; this file is checked without the DOM lib.
// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
declare const getComputedStyle: any;

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;

async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: false });
}

/** Whether a select is wide enough for its selected option's text (padding and arrow included). */
function showsWholeValue(select: Locator): Promise<boolean> {
  // deno-lint-ignore no-explicit-any
  return select.evaluate((el: any) => {
    const cs = getComputedStyle(el);
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = cs.font;
    const text = el.options[el.selectedIndex].text;
    const arrow = 16;
    const need = ctx.measureText(text).width + parseFloat(cs.paddingLeft) +
      parseFloat(cs.paddingRight) + arrow;
    return need <= el.clientWidth;
  });
}

Deno.test({
  name: "form and phone in Chromium: fresh messages, Ctrl+Enter anywhere, a default cwd, whole " +
    "selects; the transcript in a phone's first screen",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using env = await tempEnv();
    await using server = await startInProcess(env.env);
    const other = `${env.work}/other`;
    await Deno.mkdir(other);
    // The server already knows a working directory: the form starts with it.
    const earlier = await server.client.agent.create({ prompt: "earlier", cwd: env.work });
    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");

      await t.step(
        "the cwd defaults to the most recent one; selects show their value",
        async () => {
          await page.waitForFunction(
            // deno-lint-ignore no-explicit-any
            (want: string) => (document.querySelector("#na-cwd") as any)?.value === want,
            env.work,
          );
          for (const id of ["#na-model", "#na-effort"]) {
            assert.ok(await showsWholeValue(page.locator(id)), `${id} cuts its value`);
          }
          await page.selectOption("#na-effort", "medium");
          assert.ok(await showsWholeValue(page.locator("#na-effort")));
        },
      );

      await t.step("a field's message goes once the field is edited", async () => {
        await page.click("button[type=submit]");
        const promptError = page.locator("[data-field-error=na-prompt]");
        await promptError.waitFor();
        await page.type("#na-prompt", "h");
        await promptError.waitFor({ state: "detached" });
      });

      await t.step("Ctrl+Enter starts from any field; a recent cwd is one click", async () => {
        await page.fill("#na-cwd", `${env.work}/missing`);
        await page.focus("#na-cwd");
        await page.keyboard.press("Control+Enter");
        const cwdError = page.locator("[data-field-error=na-cwd]");
        await cwdError.waitFor();
        assert.match(await cwdError.innerText(), /does not exist/);
        // A recent directory is offered as a chip; choosing it clears the stale message.
        await page.locator("[data-testid=cwd-recent] .chip", { hasText: "work" }).click();
        assert.equal(await page.inputValue("#na-cwd"), env.work);
        await cwdError.waitFor({ state: "detached" });
        await page.fill("#na-cwd", other);
        await page.fill("#na-prompt", "from the name field");
        await page.focus("#na-name");
        await page.keyboard.press("Control+Enter");
        await page.locator("[data-testid=form-outcome]").waitFor();
        assert.equal(await page.locator("[data-field-error]").count(), 0);
      });

      await t.step("after a reload the cwd is where this browser last started one", async () => {
        await page.reload();
        await page.waitForSelector(".dashboard[data-state=ready]");
        await page.waitForFunction(
          // deno-lint-ignore no-explicit-any
          (want: string) => (document.querySelector("#na-cwd") as any)?.value === want,
          other,
        );
        await shot(page, "form_defaults");
      });

      await t.step("on a phone the transcript starts in the first screen", async () => {
        const phone = await browser.newContext({
          viewport: { width: 390, height: 844 },
          isMobile: true,
          hasTouch: true,
          storageState: await ctx.storageState(),
        });
        try {
          const p = await phone.newPage();
          p.on("pageerror", (e) => errors.push(e.message));
          await p.goto(new URL(`agents/${earlier.id}`, admin.address).href);
          const transcript = p.locator(".transcript");
          await transcript.waitFor();
          await p.locator(".entry").first().waitFor();
          const top = (await transcript.boundingBox())!.y;
          assert.ok(top < 844 / 2, `the transcript starts at ${top} px of 844`);
          // The figures and panels follow it.
          const stats = (await p.locator(".stats").boundingBox())!.y;
          assert.ok(stats > top, "the stats come after the transcript");
          await shot(p, "phone_agent_page");
        } finally {
          await phone.close();
        }
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
