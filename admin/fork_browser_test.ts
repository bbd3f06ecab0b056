/**
 * "Fork from here" in Chromium against a real server (fake claude): an assistant message offers
 * it, the prompt box starts a fork at that line, and the page links to the new agent. An imported
 * agent's page offers to continue the session.
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

function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "fork in Chromium: Fork from here on an assistant message starts a fork at that line",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using env = await tempEnv();
    await using server = await startInProcess(env.env);
    const client = server.client;
    const distDir = await tempDist();
    const source = await client.agent.create({
      prompt: fakePrompt({ auto: true, steps: [{ text: "first answer" }] }),
      cwd: env.work,
      name: "Source",
    });
    await waitFor(
      "the source in review",
      async () =>
        (await client.agent.get({ id: source.id })).status === "awaiting_review" || undefined,
      60_000,
    );
    const lines = await client.agent.messages({ id: source.id, after_seq: 0, limit: 100 });
    const answer = lines.messages.find((m) => m.type === "assistant")!;

    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir,
    });
    const browser: Browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } }))
      .newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      await page.goto(new URL(`/agents/${source.id}`, admin.openUrl!).href);
      const row = page.locator(`.entry[data-seq="${answer.seq}"]`);
      await row.waitFor({ timeout: 30_000 });
      // Only assistant messages offer it.
      assert.equal(await page.locator(".entry-result [data-testid=fork-open]").count(), 0);
      await row.hover();
      await row.locator("[data-testid=fork-open]").click();
      await row.locator("[data-testid=fork-box] textarea").fill("take the other road");
      await row.locator("[data-testid=fork-box] button[type=submit]").click();
      const done = row.locator("[data-testid=fork-done] a");
      await done.waitFor({ timeout: 30_000 });
      const href = (await done.getAttribute("href"))!;
      const forkId = decodeURIComponent(href.slice(href.lastIndexOf("/") + 1));
      const fork = await client.agent.get({ id: forkId });
      assert.notEqual(fork.id, source.id);
      assert.equal(fork.prompt, "take the other road");
      assert.equal(fork.name, `Fork of Source at #${answer.seq}`);
      // "Works in" a worktree of its own is passed on: refused here (not a git work tree).
      await row.locator("[data-testid=fork-isolation]").selectOption("worktree");
      await row.locator("[data-testid=fork-box] textarea").fill("in a worktree");
      await row.locator("[data-testid=fork-box] button[type=submit]").click();
      const refused = row.locator("[data-testid=fork-box] .form-error");
      await refused.waitFor({ timeout: 30_000 });
      assert.match(await refused.textContent() ?? "", /not inside a git work tree/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
