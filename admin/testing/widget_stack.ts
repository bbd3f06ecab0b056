/**
 * The whole widget stack for browser tests (tests only): the server (in-process, fake claude unless
 * told otherwise), the admin on admin.sock, the fake hero_router in front of it (with a fake
 * hero_voice and host pages), and headless Chromium with a fake microphone.
 * @module
 */
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { startAdmin } from "../main.ts";
import { noLog } from "@hero/service/log";
import { resolveAdminPaths } from "../server/paths.ts";
import { type FakeRouter, hostPage, startFakeRouter } from "./fake_router.ts";
import { type FakeVoice, fakeVoice } from "./fake_voice.ts";
import { CHROMIUM, launchChromium, startInProcess, tempDist, tempEnv } from "./harness.ts";

export { CHROMIUM };
import type { InProcess } from "@hero/server/testing/daemon";

export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** What the router injects as `X-Hero-Context` on the widget's requests. */
export const HERO_CONTEXT = "tenant=books;user=alice";

/** The host page of "hero_books" with two widgets of different home services. */
export const TWO_WIDGETS = hostPage(
  "hero_books",
  `<nav>
  <button class="host-button">Books</button>
  <hero-agent-widget id="books" home-mcp="hero_books"></hero-agent-widget>
  <hero-agent-widget id="foo" home-mcp="hero_foo"></hero-agent-widget>
</nav>
<p class="host-text">Library</p>`,
);

/** A hero_books widget whose agents ask before tools run, and one with an unknown mode. */
export const ASKING_WIDGET = hostPage(
  "asking",
  `<nav>
  <hero-agent-widget id="ask" home-mcp="hero_books" permission-mode="default"></hero-agent-widget>
  <hero-agent-widget id="bogus" home-mcp="hero_books" permission-mode="yolo"></hero-agent-widget>
</nav>`,
);

/** Widgets whose home-mcp is missing or invalid. */
export const INVALID_WIDGETS = hostPage(
  "invalid",
  `<nav>
  <hero-agent-widget id="missing"></hero-agent-widget>
  <hero-agent-widget id="empty" home-mcp=""></hero-agent-widget>
  <hero-agent-widget id="plain" home-mcp="books"></hero-agent-widget>
  <hero-agent-widget id="caps" home-mcp="Hero_Books"></hero-agent-widget>
  <hero-agent-widget id="dash" home-mcp="hero-books"></hero-agent-widget>
  <hero-agent-widget id="space" home-mcp="hero_books "></hero-agent-widget>
</nav>`,
);

export interface WidgetStack extends AsyncDisposable {
  /** A directory agents may run in; `books/` is hero_books' default cwd. */
  work: string;
  /** The temp root (HOME of the server). */
  dir: string;
  server: InProcess;
  router: FakeRouter;
  voice: FakeVoice;
  browser: Browser;
  context: BrowserContext;
  /** Opens a router path in a new tab; errors on the page are collected in `errors`. */
  open(path: string): Promise<Page>;
  errors: string[];
}

/** Starts everything. `serverEnv` is added to the server's environment. */
export async function startWidgetStack(
  serverEnv: Record<string, string> = {},
): Promise<WidgetStack> {
  const env = await tempEnv();
  const booksCwd = `${env.work}/books`;
  await Deno.mkdir(booksCwd);
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => env[Symbol.asyncDispose]()];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // keep cleaning up
      }
    }
  };
  try {
    // The router first: the server's agents reach their home MCP through it (HERO_ROUTER_URL).
    const router = await startFakeRouter({
      adminSocket: resolveAdminPaths(env.env).adminSocket,
      heroContext: HERO_CONTEXT,
    });
    cleanups.push(() => router[Symbol.asyncDispose]());
    const server = await startInProcess({
      ...env.env,
      HERO_ROUTER_URL: router.origin,
      HERO_ORCHESTRATOR_HOME_CWDS: `hero_books=${booksCwd}`,
      HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: env.work,
      ...serverEnv,
    });
    cleanups.push(() => server[Symbol.asyncDispose]());
    const admin = await startAdmin({ env: env.env, log: noLog, distDir: await tempDist() });
    cleanups.push(() => admin.shutdown());
    const voice = fakeVoice();
    router.mount("/hero_voice", voice.handle);
    const html = (body: string) =>
      new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
    router.mount("/hero_books/admin", (_req, rest) => {
      if (rest === "/" || rest === "/index.html") return html(TWO_WIDGETS);
      if (rest === "/invalid") return html(INVALID_WIDGETS);
      if (rest === "/asking") return html(ASKING_WIDGET);
      return new Response("not found", { status: 404 });
    });
    const browser = await launchChromium([
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
    ]);
    cleanups.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(["microphone"], { origin: router.origin });
    const errors: string[] = [];
    return {
      work: env.work,
      dir: env.dir,
      server,
      router,
      voice,
      browser,
      context,
      errors,
      async open(path: string) {
        const page = await context.newPage();
        page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
        page.on("console", (m) => {
          if (m.type() === "error" && !/Failed to load resource/.test(m.text())) {
            errors.push(`console: ${m.text()}`);
          }
        });
        await page.goto(`${router.origin}${path}`);
        return page;
      },
      [Symbol.asyncDispose]: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
