/**
 * Budgets and priority in headless Chromium against a real server (fake claude): the new-agent
 * form sends the chosen priority; an agent paused at its budget counts in "Needs you" and raises
 * one browser notification; its page edits the budget (`agent.set_budget`), which continues the
 * same session. The page's `Notification` is wrapped only to record what it was asked to show.
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

interface Recorded {
  title: string;
  body: string;
}

function available(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const notes = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __notes: Recorded[] }).__notes);

Deno.test({
  name:
    "admin in Chromium: priority picker, budget pause in Needs you, budget edited from the page",
  ignore: !available(CHROMIUM),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // One process per turn: a follow-up goes through the queue, where budgets are checked.
    await using env = await tempEnv({ HERO_ORCHESTRATOR_SESSION_IDLE_MS: "0" });
    await using server = await startInProcess(env.env);
    const client = server.client;
    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const browser: Browser = await launchChromium();
    const status = (id: string, want: string) =>
      waitFor(`agent ${id} ${want}`, async () => {
        const a = await client.agent.get({ id });
        return a.status === want ? a : undefined;
      }, 30_000);
    try {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await ctx.grantPermissions(["notifications"], { origin: admin.address });
      await ctx.addInitScript(() => {
        const w = globalThis as unknown as Record<string, unknown>;
        const Real = w.Notification as {
          new (title: string, options?: { body?: string }): unknown;
          permission: string;
          requestPermission(): Promise<string>;
        };
        const all: Array<{ title: string; body: string }> = [];
        w.__notes = all;
        function Spy(title: string, options?: { body?: string }) {
          all.push({ title, body: options?.body ?? "" });
          return new Real(title, options);
        }
        Object.defineProperty(Spy, "permission", { get: () => Real.permission });
        (Spy as unknown as { requestPermission(): Promise<string> }).requestPermission = () =>
          Real.requestPermission();
        w.Notification = Spy;
      });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      await page.click(".notify-toggle");
      await page.waitForSelector('.notify-toggle[data-notify="on"]');

      // The new-agent form: a high-priority agent.
      await page.fill("#na-prompt", fakePrompt({ auto: true, steps: [{ text: "urgent" }] }));
      await page.fill("#na-cwd", env.work);
      await page.selectOption("#na-priority", "high");
      await page.click(".form-actions button[type=submit]");
      const urgent = await waitFor("the form's agent", async () => {
        const { agents } = await client.agent.list({});
        return agents.find((a) => a.prompt.includes("urgent"));
      });
      assert.equal(urgent.priority, "high");
      await status(urgent.id, "awaiting_review");
      await client.agent.complete({ id: urgent.id });
      await waitFor("no count in the title", async () => !/^\(\d+\)/.test(await page.title()));
      const before = (await notes(page)).length;

      // An agent with a one-turn budget: its second turn never starts, it pauses and asks.
      const capped = await client.agent.create({
        prompt: fakePrompt({ auto: true, steps: [{ text: "first turn" }] }),
        cwd: env.work,
        name: "Capped",
        max_turns: 1,
      });
      await status(capped.id, "awaiting_review");
      await waitFor(
        "its process to end",
        async () => !(await client.agent.get({ id: capped.id })).live,
      );
      await waitFor("the review notification", async () => (await notes(page)).length > before);
      await client.agent.followUp({ id: capped.id, prompt: "second" });
      const paused = await status(capped.id, "paused");
      assert.equal(paused.pause_reason, "budget");
      const note = await waitFor("the budget notification", async () => {
        const n = await notes(page);
        return n.find((x) => x.title.includes("budget"));
      });
      assert.equal(note.title, 'Agent "Capped" is paused at its budget');
      assert.match(note.body, /^1 of 1 turns\. Raise the budget to continue\.$/);
      await waitFor("the title counts the paused agent", async () => {
        const title = await page.title();
        return title.startsWith("(1) ") ? title : undefined;
      });

      // Its page: the budget form says why it waits; raising it continues the same session.
      const agentPage = await ctx.newPage();
      agentPage.on("pageerror", (e) => errors.push(e.message));
      await agentPage.goto(`${admin.address}/agents/${capped.id}`);
      const form = agentPage.locator("[data-testid=budget-form]");
      await form.getByText("Paused at its budget").waitFor();
      assert.equal(await form.locator("input[name=max_turns]").inputValue(), "1");
      // A bad figure is the server's to refuse; nothing changes.
      await form.locator("input[name=max_cost_usd]").fill("-2");
      await form.locator("button[type=submit]").click();
      await form.locator(".form-error").waitFor();
      assert.equal((await client.agent.get({ id: capped.id })).status, "paused", "nothing changed");
      await form.locator("input[name=max_cost_usd]").fill("");
      await form.locator("input[name=max_turns]").fill("5");
      await form.locator("button[type=submit]").click();
      await form.getByText("Saved.").waitFor();
      const done = await status(capped.id, "awaiting_review");
      assert.equal(done.max_turns, 5);
      assert.equal(done.max_cost_usd, null);
      assert.equal(done.result, "second", "the waiting follow-up ran in the same agent");
      assert.equal(done.session_id, paused.session_id);
      await agentPage.locator(".agent-title .badge[data-status=awaiting_review]").waitFor();
      assert.equal(await form.getByText("Paused at its budget").count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
