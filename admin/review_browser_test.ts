/**
 * The Review tab in headless Chromium: an isolated agent's changed files with counts, one file's
 * diff, keyboard navigation between files, "Approve & merge" landing in the repository, and a
 * second agent's conflict shown with its file while nothing changes. Real server (fake claude
 * writing files in its worktree), real admin, real git.
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

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name: "review tab: card +/-, files, diff, keyboard, approve & merge, a conflict changes nothing",
  ignore: !available(CHROMIUM),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using env = await tempEnv();
    await using server = await startInProcess(env.env);
    const client = server.client;
    const repo = `${env.work}/repo`;
    await Deno.mkdir(repo);
    await git(repo, "init", "-q", "-b", "main");
    await git(repo, "config", "user.email", "t@example.com");
    await git(repo, "config", "user.name", "T");
    await Deno.writeTextFile(`${repo}/README.md`, "hello\n");
    await git(repo, "add", ".");
    await git(repo, "commit", "-q", "-m", "init");
    const writes = (cmd: string) => fakePrompt({ auto: true, steps: [{ spawnWait: cmd }] });
    const a = await client.agent.create({
      prompt: writes("printf 'a1\\na2\\n' > a.txt && printf 'from a\\n' > same.txt"),
      cwd: repo,
      name: "A",
    });
    const b = await client.agent.create({
      prompt: writes("printf 'from b\\n' > same.txt"),
      cwd: repo,
      name: "B",
    });
    for (const id of [a.id, b.id]) {
      await waitFor(`agent ${id} in review`, async () => {
        const got = await client.agent.get({ id });
        return got.status === "awaiting_review" ? got : undefined;
      }, 30_000);
    }
    const admin = await startAdmin({
      env: env.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const browser: Browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      // The cards of agents in review show the size of their changes.
      await page.waitForSelector(`[data-agent-id="${a.id}"] [data-testid="card-diff"]`);
      assert.equal(
        await page.textContent(`[data-agent-id="${a.id}"] [data-testid="card-diff"] dd`),
        "2 files +3 −0",
      );
      await page.waitForSelector(`[data-agent-id="${b.id}"] [data-testid="card-diff"]`);
      // Both changed same.txt: each card warns of the overlap (a.txt is A's alone).
      for (const id of [a.id, b.id]) {
        await page.waitForSelector(`[data-agent-id="${id}"] [data-testid="card-overlap"]`);
        assert.equal(
          await page.textContent(`[data-agent-id="${id}"] [data-testid="card-overlap"] dd`),
          "another agent changed same.txt too",
        );
      }
      await page.goto(`${admin.address}/agents/${a.id}`);
      await page.click('[data-tab="review"]');
      await page.waitForSelector('[data-testid="review-summary"]');
      assert.match(
        await page.textContent('[data-testid="review-summary"]') ?? "",
        /2 files changed, \+3 −0/,
      );
      const files = await page.$$eval(".review-file", (els) => els.map((e) => e.textContent));
      assert.deepEqual(files, ["A a.txt +2 −0", "A same.txt +1 −0"]);
      await page.waitForSelector('[data-testid="review-patch"] .diff-add');
      assert.match(await page.textContent('[data-testid="review-patch"]') ?? "", /\+a1/);
      // j moves to the next file and its diff.
      await page.focus(".review-files");
      await page.keyboard.press("j");
      await page.waitForFunction(() =>
        document.querySelector('.review-file[aria-selected="true"]')?.getAttribute("data-path") ===
          "same.txt" &&
        document.querySelector('[data-testid="review-patch"]')?.textContent?.includes("+from a")
      );
      await page.keyboard.press("k");
      await page.waitForSelector('.review-file[aria-selected="true"][data-path="a.txt"]');

      // Comments on lines become one follow-up: file:line, the quoted line, the comment.
      await page.waitForSelector('[data-testid="review-patch"] .diff-add[data-line="2"]');
      await page.click('[data-testid="review-patch"] .diff-add[data-line="2"]');
      await page.fill('[data-testid="comment-form"] textarea', "say why a2 exists");
      await page.click('[data-action="save-comment"]');
      await page.waitForSelector('[data-testid="review-comment"]');
      await page.click('.review-file[data-path="same.txt"]');
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="review-patch"]')?.textContent?.includes("+from a")
      );
      await page.click('[data-testid="review-patch"] .diff-add[data-line="1"]');
      await page.fill('[data-testid="comment-form"] textarea', "lower case please");
      await page.click('[data-action="save-comment"]');
      await page.click('[data-action="request-changes"]');
      await page.waitForSelector('[data-testid="review-outcome"]');
      assert.match(
        await page.textContent('[data-testid="review-outcome"]') ?? "",
        /Sent 2 comments to the agent as one follow-up/,
      );
      const asked = await waitFor("a back in review after the comments", async () => {
        const got = await client.agent.get({ id: a.id });
        return got.status === "awaiting_review" && got.turn_count === 2 ? got : undefined;
      }, 30_000);
      assert.equal(asked.turn_count, 2);
      // The fake claude echoes its prompt: the stored turn carries the comments' text.
      const said = (await client.agent.messages({ id: a.id, limit: 1000 })).messages
        .map((m) => m.raw).join("\n");
      assert.match(said, /a\.txt:2\\n> \+a2\\nsay why a2 exists/);
      assert.match(said, /same\.txt:1\\n> \+from a\\nlower case please/);
      await page.waitForSelector('[data-action="merge"]:not([disabled])');

      await page.click('[data-action="merge"]');
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="review-outcome"]')?.textContent?.startsWith("Merged")
      );
      assert.match(
        await page.textContent('[data-testid="review-outcome"]') ?? "",
        /Merged into main \(fast-forward\)/,
      );
      assert.equal(await Deno.readTextFile(`${repo}/same.txt`), "from a\n");
      assert.equal(await git(repo, "status", "--porcelain"), "");

      const before = await git(repo, "rev-parse", "main");
      await page.goto(`${admin.address}/agents/${b.id}`);
      await page.click('[data-tab="review"]');
      await page.waitForSelector('[data-action="merge"]');
      await page.click('[data-action="merge"]');
      await page.waitForSelector('[data-testid="review-conflict"]');
      assert.match(
        await page.textContent('[data-testid="review-conflict"]') ?? "",
        /nothing changed.*same\.txt/,
      );
      assert.equal(await git(repo, "rev-parse", "main"), before);
      assert.equal((await client.agent.get({ id: b.id })).status, "awaiting_review");
      // Asking the agent to resolve: the base is merged into its branch and it gets a follow-up.
      await page.click('[data-action="resolve"]');
      await page.waitForSelector('[data-testid="review-outcome"]');
      assert.match(
        await page.textContent('[data-testid="review-outcome"]') ?? "",
        /Asked the agent to resolve same\.txt/,
      );
      await waitFor("b back in review", async () => {
        const got = await client.agent.get({ id: b.id });
        return got.status === "awaiting_review" && got.turn_count === 2 ? got : undefined;
      }, 30_000);
      await page.click('[data-tab="transcript"]');
      await page.click('[data-tab="review"]');
      await page.waitForSelector('[data-action="discard"]');

      // Discard asks again for unmerged work, then removes the worktree.
      await page.click('[data-action="discard"]');
      await page.waitForSelector('[data-testid="review-confirm"]');
      await page.click('[data-action="discard"]');
      await page.waitForSelector('[data-testid="review-outcome"]');
      assert.equal((await client.agent.get({ id: b.id })).status, "cancelled");
      assert.equal(await git(repo, "branch", "--list", "hero/*"), "");
    } finally {
      await browser.close();
      await admin.shutdown();
    }
  },
});

// deno-lint-ignore no-explicit-any
declare const document: any;
