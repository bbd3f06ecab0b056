/**
 * The agent page with a live session, in Chromium: Interrupt ends the running turn (the agent
 * awaits review, same process), the message box sends into the live process, and a message sent
 * while a turn runs is shown as queued.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { fakePrompt } from "@hero/core/testing";
import { startAdmin } from "./main.ts";
import { noLog } from "@hero/service/log";
import {
  CHROMIUM,
  launchChromium,
  startInProcess,
  tempDist,
  tempEnv,
  waitFor,
} from "./testing/harness.ts";

function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

async function waitStatus(page: Page, status: string, ms = 20_000): Promise<void> {
  await page.waitForSelector(`.agent-title .badge[data-status="${status}"]`, { timeout: ms });
}

Deno.test({
  name: "admin in Chromium: Interrupt and Send on a live session",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using env = await tempEnv({ HERO_ORCHESTRATOR_SESSION_IDLE_MS: "120000" });
    await using server = await startInProcess(env.env);
    const client = server.client;
    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const browser: Browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");

      const a = await client.agent.create({
        prompt: fakePrompt({ auto: true, steps: [{ text: "partial-output" }, { hang: true }] }),
        cwd: env.work,
      });
      await waitFor(
        "the turn to run",
        async () => (await client.agent.get({ id: a.id })).status === "running",
      );
      await page.goto(`${admin.address}/agents/${a.id}`);
      await page.waitForSelector("html[data-ready=agent]");
      await waitStatus(page, "running");
      // While running, the message box is there too: a message now is queued after the turn.
      await page.fill("#fu-prompt", "queued-words");
      await page.press("#fu-prompt", "Control+Enter");
      await page.locator("[data-testid=sent]").getByText("Queued").waitFor();

      await page.click(".actions button[data-action=interrupt]");
      // The interrupted turn ends; the queued message then runs as the next turn in the same
      // process and the agent comes back to review with its answer.
      await page.locator(".vlist").getByText("queued-words").first().waitFor({ timeout: 20_000 });
      await waitStatus(page, "awaiting_review");
      const reviewed = await client.agent.get({ id: a.id });
      assert.equal(reviewed.live, true);
      assert.equal(reviewed.result, "queued-words");
      assert.ok((await page.locator(".vlist").innerText()).includes("partial-output"));

      await page.fill("#fu-prompt", "live-next");
      await page.press("#fu-prompt", "Control+Enter");
      await page.locator("[data-testid=sent]").getByText("Sent.").waitFor();
      await waitFor(
        "the next turn's answer",
        async () => (await client.agent.get({ id: a.id })).result === "live-next",
        20_000,
      );
      assert.equal((await client.agent.get({ id: a.id })).pid, reviewed.pid, "same process");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
