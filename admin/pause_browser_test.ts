/**
 * Paused agents in headless Chromium against a real server: a rate-limited agent has its own
 * place on the dashboard with its reason and a countdown to the resume; an agent page pauses a
 * running agent and resumes it.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
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

function available(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "admin in Chromium: paused agents with reason and countdown; pause and resume buttons",
  ignore: !available(CHROMIUM),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using env = await tempEnv({
      HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: "go on",
      HERO_ORCHESTRATOR_DAILY_BUDGET_USD: "50",
    });
    env.env.HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD = JSON.stringify({ [env.work]: 2 });
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
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const resetsAt = Math.floor(Date.now() / 1000) + 2 * 3600;
      const limited = await client.agent.create({
        prompt: fakePrompt([{ init: true }, { rateLimitRejected: { resetsAt } }]),
        cwd: env.work,
        name: "Hit the wall",
      });
      await waitFor(
        "the pause",
        async () => (await client.agent.get({ id: limited.id })).status === "paused",
        30_000,
      );

      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      const section = page.locator("[data-bucket=paused]");
      await section.locator(`[data-agent-id="${limited.id}"]`).waitFor();
      assert.equal(await page.locator("[data-bucket=running] .card").count(), 0);
      const pause = section.locator("[data-testid=card-pause]");
      const first = await pause.innerText();
      assert.match(first, /^Usage limit \(five-hour window\) · resumes in (1h 59m|2h 00m)$/);
      assert.equal(await page.locator("[data-testid=count-paused]").innerText(), "1");

      // The usage panel: each budget with what is used and left, and why new starts wait.
      await page.click(".usage-summary");
      await page.locator("[data-testid=budget-admission]", { hasText: "five_hour" }).waitFor();
      assert.match(
        await page.locator("[data-testid=budget-daily]").innerText(),
        /of \$50\b.* left/,
      );
      assert.match(await page.locator("[data-testid=budget-cwd]").innerText(), /of \$2\b.* left/);
      assert.equal(
        await page.locator("[data-testid=budget-cwd]").getAttribute("title"),
        env.work,
      );
      await page.keyboard.press("Escape");

      // While the window is rejected new agents wait; cancelling the paused agent lifts that.
      await client.agent.cancel({ id: limited.id });
      await page.locator("[data-bucket=paused]").waitFor({ state: "detached" });

      // The agent page: pause a running agent, then resume it; it continues to awaiting review.
      const hang = await client.agent.create({
        prompt: fakePrompt([{ init: true }, { text: "busy" }, { sleep: 60_000 }, { result: {} }]),
        cwd: env.work,
        name: "Long job",
        max_turns: 5,
      });
      await waitFor(
        "running",
        async () => (await client.agent.get({ id: hang.id })).status === "running",
        30_000,
      );
      await page.goto(`${admin.address}/agents/${hang.id}`);
      await page.locator("[data-action=pause]").click();
      await page.locator(".badge[data-status=paused]").first().waitFor();
      const paused = await client.agent.get({ id: hang.id });
      assert.equal(paused.pause_reason, "manual");
      await page.locator("[data-action=resume]").click();
      await waitFor("the continuation", async () => {
        const a = await client.agent.get({ id: hang.id });
        return a.status === "awaiting_review" ? a : undefined;
      }, 30_000);
      await page.locator(".badge[data-status=awaiting_review]").first().waitFor();
      // The agent's own budget in its usage panel.
      await page.click("[data-panel=usage] summary");
      await page.locator("[data-testid=cli-usage]", { hasText: "of 5 turns" }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
