/**
 * The storage banner in headless Chromium: the production daemon (child process) keeps its state
 * on a 6 MiB tmpfs in a mount namespace of its own; an agent's output fills it, the admin shows
 * the banner (what is wrong, that agents are held), and it goes away once the tmpfs grows and
 * the held lines are stored.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { resolvePaths } from "@hero/core/config";
import { fakePrompt } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon } from "@hero/server/testing/daemon";
import { unixFetch } from "@hero/server/testing/unix_fetch";
import { startAdmin } from "./main.ts";
import { noLog } from "@hero/service/log";
import { CHROMIUM, launchChromium, tempDist, tempEnv, waitFor } from "./testing/harness.ts";

function runs(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const AVAILABLE = runs("test", ["-x", CHROMIUM]) &&
  runs("unshare", ["-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt && umount /mnt"]);

Deno.test({
  name: "admin in Chromium: a full disk shows the storage banner until space returns",
  ignore: !AVAILABLE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await tempEnv({ HERO_ORCHESTRATOR_STORAGE_RETRY_MAX_MS: "500" });
    const varRoot = t.env.PATH_VAR!;
    await Deno.mkdir(varRoot, { recursive: true });
    await using daemon = await spawnDaemon(t.env, {
      launcher: ["unshare", "-m"],
      prelude: `mount -t tmpfs -o size=6m,mode=0700 tmpfs '${varRoot}'`,
    });
    const transport = unixFetch(resolvePaths(t.env).rpcSocket);
    const client = createClient({ fetch: transport.fetch });
    const admin = await startAdmin({
      env: t.env,
      log: noLog,
      listen: { hostname: "127.0.0.1", port: 0 },
      distDir: await tempDist(),
    });
    const browser: Browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(admin.openUrl!);
      await page.waitForSelector(".dashboard[data-state=ready]");
      assert.equal(await page.locator(".storage-banner").count(), 0, "no banner while writes work");

      const agent = await client.agent.create({
        prompt: fakePrompt({ auto: true, steps: [{ lines: 40_000, bytes: 400 }] }),
        cwd: t.work,
      });
      // Polled every 10 s while storage is fine.
      const banner = page.locator(".storage-banner[data-storage-state=storage_full]");
      await banner.waitFor({ timeout: 60_000 });
      const text = await banner.innerText();
      assert.match(text, /Storage is full/);
      assert.match(text, /Agents are held/);
      assert.match(text, /database or disk is full/);
      assert.equal(await banner.getAttribute("role"), "alert");

      const grow = await new Deno.Command("nsenter", {
        args: ["-t", String(daemon.pid), "-m", "mount", "-o", "remount,size=256m", varRoot],
      }).output();
      assert.ok(grow.success, new TextDecoder().decode(grow.stderr));
      // Polled every 2 s while it fails.
      await page.locator(".storage-banner").waitFor({ state: "detached", timeout: 60_000 });
      await waitFor("awaiting_review", async () => {
        const a = await client.agent.get({ id: agent.id });
        return a.status === "awaiting_review" ? a : undefined;
      }, 120_000);
    } finally {
      await browser.close();
      await admin.shutdown();
      transport.close();
    }
  },
});
