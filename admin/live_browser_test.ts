/**
 * The agent page with a live session, in Chromium: Interrupt ends the running turn (the agent
 * awaits review, same process), the message box sends into the live process, a message sent
 * while a turn runs is shown as queued, and Steer (while running) sends it into the running turn.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { fakePrompt, type FakeStep } from "@hero/core/testing";
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
      // Steer (only while running) puts a message into the running turn.
      await page.fill("#fu-prompt", "steer-words");
      await page.click("form.follow-up button[data-action=steer]");
      await page.locator("[data-testid=sent]").getByText("Steering").waitFor();

      await page.click(".actions button[data-action=interrupt]");
      // The interrupted turn ends; the waiting messages then run in the same process (the fake
      // CLI has no tool boundary, so the steer runs as a turn too) and the agent comes back to
      // review with the last answer.
      await page.locator(".vlist").getByText("queued-words").first().waitFor({ timeout: 20_000 });
      await page.locator(".vlist").getByText("steer-words").first().waitFor({ timeout: 20_000 });
      await waitStatus(page, "awaiting_review");
      const reviewed = await client.agent.get({ id: a.id });
      assert.equal(reviewed.live, true);
      assert.equal(reviewed.result, "steer-words");
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

function textDelta(text: string): FakeStep {
  return {
    line: {
      type: "stream_event",
      event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
      session_id: "{{session_id}}",
      parent_tool_use_id: null,
      api_message_id: "msg_browser_1",
    },
  };
}

/** A step that waits until the test creates `path` (the page is open by then). */
function gate(path: string): FakeStep {
  return { spawnWait: `while [ ! -e '${path}' ]; do sleep 0.05; done` };
}

Deno.test({
  name: "admin in Chromium: text shows as the model writes it; a cancelled turn keeps it",
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
      // The dashboard card shows what an agent is writing, as it writes it.
      const openCard = `${env.work}/open-card`;
      const c = await client.agent.create({
        prompt: fakePrompt({
          auto: true,
          steps: [gate(openCard), textDelta("Typing on "), textDelta("the card"), { hang: true }],
        }),
        cwd: env.work,
      });
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      await page.locator(`[data-agent-id="${c.id}"] .badge[data-status=running]`).waitFor();
      await Deno.writeTextFile(openCard, "");
      await page.locator(`[data-agent-id="${c.id}"]`).getByText("Typing on the card").waitFor();
      await client.agent.cancel({ id: c.id });

      const open = `${env.work}/open-1`;
      const more = `${env.work}/more-1`;
      const a = await client.agent.create({
        prompt: fakePrompt({
          auto: true,
          steps: [
            gate(open),
            textDelta("Hello"),
            textDelta(", wor"),
            gate(more),
            textDelta("ld"),
            { text: "Hello, world" },
          ],
        }),
        cwd: env.work,
      });
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      await page.goto(`${admin.address}/agents/${a.id}`);
      await page.waitForSelector("html[data-ready=agent]");
      await waitStatus(page, "running");
      await Deno.writeTextFile(open, "");
      // The text is there while the model is still writing: nothing of it is stored yet.
      await page.locator("[data-testid=live-text-body]").getByText("Hello, wor").waitFor();
      const stored = await client.agent.messages({ id: a.id });
      assert.ok(!stored.messages.some((m) => m.type === "assistant"));
      await Deno.writeTextFile(more, "");
      // The stored assistant line takes its place.
      await waitStatus(page, "awaiting_review");
      await page.locator(".vlist").getByText("Hello, world").first().waitFor();
      await page.locator("[data-testid=live-text]").waitFor({ state: "detached" });

      // A cancelled turn never stores its line: what was written stays on screen.
      const open2 = `${env.work}/open-2`;
      const b = await client.agent.create({
        prompt: fakePrompt({
          auto: true,
          steps: [gate(open2), textDelta("half a thou"), { hang: true }],
        }),
        cwd: env.work,
      });
      await page.goto(`${admin.address}/agents/${b.id}`);
      await page.waitForSelector("html[data-ready=agent]");
      await waitStatus(page, "running");
      await Deno.writeTextFile(open2, "");
      await page.locator("[data-testid=live-text-body]").getByText("half a thou").waitFor();
      await client.agent.cancel({ id: b.id });
      await waitStatus(page, "cancelled");
      assert.equal(
        await page.locator("[data-testid=live-text-body]").innerText(),
        "half a thou",
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});

Deno.test({
  name: "admin in Chromium: a permission prompt needs you on the dashboard and the agent page",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using env = await tempEnv();
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
      const ask = (file: string, content: string) =>
        fakePrompt({
          auto: true,
          steps: [{ ask: { tool: "Write", input: { file_path: `${env.work}/${file}`, content } } }],
        });
      // Created from the form, in a mode that asks before tools run.
      await page.keyboard.press("n");
      await page.fill("#na-prompt", ask("allowed.txt", "line from the agent"));
      await page.fill("#na-cwd", env.work);
      await page.fill("#na-name", "asks to write");
      await page.selectOption("#na-mode", "default");
      await page.press("#na-prompt", "Control+Enter");
      const link = page.locator(".form-ok a");
      await link.waitFor();
      const a = { id: (await link.getAttribute("href"))!.split("/").pop()! };
      assert.equal((await client.agent.get({ id: a.id })).permission_mode, "default");
      // The dashboard shows it live (an `approval` event), rendered like the transcript: a diff.
      const card = page.locator(`[data-testid=needs-you] [data-testid=approval]`);
      await card.waitFor();
      assert.ok((await card.innerText()).includes("line from the agent"));
      assert.ok((await card.innerText()).includes("asks to write"));
      await page.goto(`${admin.address}/agents/${a.id}`);
      await page.waitForSelector("html[data-ready=agent]");
      const here = page.locator("[data-testid=approval]");
      await here.waitFor();
      assert.ok((await here.innerText()).includes(`${env.work}/allowed.txt`));
      await here.getByRole("button", { name: "Allow", exact: true }).click();
      await here.waitFor({ state: "detached" });
      await waitStatus(page, "awaiting_review");
      assert.equal(await Deno.readTextFile(`${env.work}/allowed.txt`), "line from the agent");
      const answered = (await client.approval.list({ agent_id: a.id })).approvals[0]!;
      assert.deepEqual([answered.state, answered.answered_by], ["allowed", "admin"]);

      // Deny from the dashboard, with a reason the model is told.
      const b = await client.agent.create({
        prompt: ask("denied.txt", "nope"),
        cwd: env.work,
        permission_mode: "default",
      });
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      const denyCard = page.locator(`[data-testid=approval]`);
      await denyCard.waitFor();
      await denyCard.getByLabel("Why (told to the model when you deny)").fill("not today");
      await denyCard.getByRole("button", { name: "Deny" }).click();
      await denyCard.waitFor({ state: "detached" });
      const denied = (await client.approval.list({ agent_id: b.id })).approvals[0]!;
      assert.deepEqual([denied.state, denied.message], ["denied", "not today"]);
      await waitFor(
        "the denied agent in review",
        async () => (await client.agent.get({ id: b.id })).status === "awaiting_review",
      );
      await assert.rejects(Deno.stat(`${env.work}/denied.txt`));
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
