/**
 * "Needs you" in headless Chromium: the tab title counts agents waiting on a person, the opt-in
 * button is the only thing that asks for notification permission, and once a person opted in,
 * every agent that starts waiting for review or fails raises one browser notification whose
 * click opens that agent. Real server (fake claude) and admin; the page's `Notification` is
 * wrapped only to record what the page asked the browser to show.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
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
  waitFor,
} from "./testing/harness.ts";

// deno-lint-ignore no-explicit-any
declare const document: any;
// deno-lint-ignore no-explicit-any
declare const localStorage: any;

const SCREENSHOTS = `${REPO_ROOT}.ci/out/screenshots`;

interface Recorded {
  title: string;
  body: string;
  href: string | null;
}

function available(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Records every notification the page creates and every permission request it makes. */
async function spyOnNotifications(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(() => {
    const w = globalThis as unknown as {
      Notification: {
        new (title: string, options?: { body?: string; data?: { href?: string } }): {
          onclick: (() => void) | null;
        };
        permission: string;
        requestPermission(): Promise<string>;
      };
      __notes: Array<{ title: string; body: string; href: string | null }>;
      __asked: number;
      __last: { onclick: (() => void) | null } | null;
    };
    const Real = w.Notification;
    w.__notes = [];
    w.__asked = 0;
    w.__last = null;
    function Spy(title: string, options?: { body?: string; data?: { href?: string } }) {
      const note = new Real(title, options);
      w.__notes.push({ title, body: options?.body ?? "", href: options?.data?.href ?? null });
      w.__last = note;
      return note;
    }
    Object.defineProperty(Spy, "permission", { get: () => Real.permission });
    (Spy as unknown as { requestPermission(): Promise<string> }).requestPermission = () => {
      w.__asked++;
      return Real.requestPermission();
    };
    w.Notification = Spy as unknown as typeof w.Notification;
  });
}

const notes = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __notes: Recorded[] }).__notes);
const asked = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __asked: number }).__asked);

Deno.test({
  name: "needs you: title count, opt-in notifications, a click opens the agent; downloads",
  ignore: !available(CHROMIUM),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using env = await tempEnv();
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
    const status = (id: string, want: string) =>
      waitFor(`agent ${id} ${want}`, async () => {
        const a = await client.agent.get({ id });
        return a.status === want ? a : undefined;
      }, 30_000);
    // Agents see only their cwd (and a private /tmp) in the sandbox: the gate lives there.
    const gate = `${env.work}/gate`;
    const waiting = (text: string) =>
      fakePrompt({
        auto: true,
        steps: [
          { spawnWait: `until [ -e '${gate}' ]; do sleep 0.05; done` },
          { text },
          { result: { result: text } },
        ],
      });
    try {
      const ctx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
      });
      await ctx.grantPermissions(["notifications"], { origin });
      await spyOnNotifications(ctx);
      const page = await ctx.newPage();
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");

      await t.step("nothing asks for permission until the person opts in", async () => {
        await page.waitForSelector('.notify-toggle[data-notify="off"]');
        assert.equal(await asked(page), 0);
        assert.doesNotMatch(await page.title(), /^\(\d+\)/);
        await page.click(".notify-toggle");
        await page.waitForSelector('.notify-toggle[data-notify="on"]');
        assert.equal(await asked(page), 1);
        assert.equal(await page.evaluate(() => localStorage.getItem("hero_admin_notify")), "on");
      });

      let reviewedId = "";
      let failedId = "";
      await t.step("an agent waiting for review: one notification, title count 1", async () => {
        const agent = await client.agent.create({
          prompt: waiting("all done here"),
          cwd: env.work,
          name: "Reviewable",
        });
        reviewedId = agent.id;
        await Deno.writeTextFile(gate, "go");
        await status(agent.id, "awaiting_review");
        await waitFor("the title count", async () => (await page.title()).startsWith("(1) "));
        const got = await waitFor("a notification", async () => {
          const n = await notes(page);
          return n.length === 1 ? n : undefined;
        });
        assert.equal(got[0]!.title, 'Agent "Reviewable" is waiting for review');
        assert.equal(got[0]!.body, "all done here");
        assert.equal(got[0]!.href, `/agents/${agent.id}`);
      });

      await t.step("a failure notifies too; a running agent does not", async () => {
        const running = await client.agent.create({
          prompt: fakePrompt([{ init: true }, { hang: true }]),
          cwd: env.work,
          name: "Runner",
        });
        await status(running.id, "running");
        const bad = await client.agent.create({
          prompt: fakePrompt([{ init: true }, { exit: 3 }]),
          cwd: env.work,
          name: "Breaks",
        });
        failedId = bad.id;
        await status(bad.id, "failed");
        const got = await waitFor("the failure's notification", async () => {
          const n = await notes(page);
          return n.length === 2 ? n : undefined;
        });
        assert.equal(got[1]!.title, 'Agent "Breaks" failed');
        assert.match(got[1]!.body, /^exit_nonzero: /);
        await page.waitForTimeout(300);
        assert.equal((await notes(page)).length, 2, "the running agent raised nothing");
        await client.agent.cancel({ id: running.id });
        await page.screenshot({ path: `${SCREENSHOTS}/needs-you-dashboard.png` });
      });

      await t.step("clicking a notification opens its agent", async () => {
        await page.evaluate(() =>
          (globalThis as unknown as { __last: { onclick: () => void } }).__last.onclick()
        );
        await page.waitForURL(`**/agents/${failedId}`);
        assert.equal(new URL(page.url()).pathname, `/agents/${failedId}`);
      });

      await t.step(
        "the choice survives a reload; the agent page counts its own agent",
        async () => {
          await page.goto(`${origin}/agents/${reviewedId}`);
          await page.waitForSelector('.notify-toggle[data-notify="on"]');
          await waitFor("the agent page's title", async () => {
            const title = await page.title();
            return title.startsWith("(1) Reviewable") ? title : undefined;
          });
          assert.equal(await asked(page), 0, "no second permission prompt");
        },
      );
      await t.step("the agent page downloads the transcript as Markdown and JSONL", async () => {
        const [md] = await Promise.all([
          page.waitForEvent("download"),
          page.click('[data-export="markdown"]'),
        ]);
        assert.match(md.suggestedFilename(), /^reviewable-[0-9a-f]{8}\.md$/);
        const text = await Deno.readTextFile((await md.path())!);
        assert.match(text, /^# Reviewable\n/);
        assert.match(text, /all done here/);
        const [jsonl] = await Promise.all([
          page.waitForEvent("download"),
          page.click('[data-export="jsonl"]'),
        ]);
        const lines = (await Deno.readTextFile((await jsonl.path())!)).trimEnd().split("\n");
        const stored = await client.agent.messages({ id: reviewedId, after_seq: 0, limit: 1000 });
        assert.deepEqual(lines, stored.messages.map((m) => m.raw));
      });

      await t.step(
        "a permission prompt counts and notifies; answered, it leaves the count",
        async () => {
          await page.goto(origin);
          await page.waitForSelector(".dashboard[data-state=ready]");
          const count = async () => Number(/^\((\d+)\) /.exec(await page.title())?.[1] ?? 0);
          await waitFor("the title count", async () => (await count()) > 0);
          const before = await count();
          const noted = (await notes(page)).length;
          const asker = await client.agent.create({
            prompt: fakePrompt({
              auto: true,
              steps: [{ ask: { tool: "Bash", input: { command: "make deploy" } } }, { text: "ok" }],
            }),
            cwd: env.work,
            name: "Asker",
            permission_mode: "default",
          });
          const got = await waitFor("the prompt's notification", async () => {
            const n = await notes(page);
            return n.length === noted + 1 ? n : undefined;
          });
          assert.equal(got.at(-1)!.title, 'Agent "Asker" asks to use Bash');
          assert.equal(got.at(-1)!.body, "make deploy");
          assert.equal(got.at(-1)!.href, `/agents/${asker.id}`);
          await waitFor("the prompt in the count", async () => (await count()) === before + 1);
          const [pending] = (await client.approval.list({ agent_id: asker.id, state: "pending" }))
            .approvals;
          await client.approval.respond({ id: pending!.id, decision: "deny", answered_by: "test" });
          await status(asker.id, "awaiting_review");
          // Once the page has the agent in review, the answered prompt no longer counts: the
          // review took its place (both would make it + 2).
          await page.locator(`.card.card-awaiting_review[data-agent-id="${asker.id}"]`).waitFor();
          await waitFor("the count after the answer", async () => (await count()) === before + 1);
          await page.waitForTimeout(300);
          assert.equal(await count(), before + 1);
        },
      );

      // The session, for a second person-less browser profile (the access token is one-time).
      const cookies = await ctx.cookies();
      await ctx.close();

      await t.step("without the opt-in no notification is ever raised", async () => {
        const ctx2 = await browser.newContext();
        await ctx2.addCookies(cookies);
        await ctx2.grantPermissions(["notifications"], { origin });
        await spyOnNotifications(ctx2);
        const p2 = await ctx2.newPage();
        await p2.goto(`${origin}/`);
        await p2.waitForSelector(".dashboard[data-state=ready]");
        await p2.waitForSelector('.notify-toggle[data-notify="off"]');
        await Deno.remove(gate);
        const agent = await client.agent.create({
          prompt: waiting("second review"),
          cwd: env.work,
          name: "Quiet",
        });
        await status(agent.id, "running");
        await Deno.writeTextFile(gate, "go");
        await status(agent.id, "awaiting_review");
        // Three agents wait for review now (Reviewable, Asker and Quiet).
        await waitFor("the title count", async () => (await p2.title()).startsWith("(3) "));
        assert.deepEqual(await notes(p2), []);
        assert.equal(await asked(p2), 0);
        await ctx2.close();
      });
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});
