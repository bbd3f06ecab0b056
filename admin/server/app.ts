/**
 * `createAdminApp(deps)`: the Hono app of hero_orchestrator_admin. No I/O at import; the
 * composition root (`admin/main.ts`) passes the upstream, the assets and, for `--listen`, the
 * access token in.
 *
 * Routes (all also under any `X-Forwarded-Prefix`): `GET /` dashboard, `GET /agents/:id` agent
 * page, `GET /assets/*`, `GET /events` (SSE relay), `POST /rpc` (pass-through), `GET /health`,
 * `GET /.well-known/heroservice.json`, `GET /openrpc.json`, `GET /widget/hero-agent-widget.js`
 * (the embeddable widget) and `GET /widget/demo`.
 * @module
 */
import { type Context, Hono, type Next } from "hono";
import type { AccessToken } from "./access_token.ts";
import { type AssetStore, serveAssets } from "./assets.ts";
import { crossSiteReason, isLoopbackHost } from "./guard.ts";
import type { Log } from "@hero/service/log";
import { ADMIN_VERSION } from "./manifest.ts";
import { SERVICE_NAME } from "./paths.ts";
import { forwardedPrefix } from "./prefix.ts";
import type { EventRelay } from "./relay.ts";
import { rpcPassThrough } from "./rpc_proxy.ts";
import {
  CONTENT_SECURITY_POLICY,
  escapeHtml,
  type PageOptions,
  renderPage,
  themeFrom,
} from "./shell.ts";
import { errorText, type Upstream } from "./upstream.ts";
import { serveWidget, widgetDemo } from "./widget.ts";

/** What the app needs. */
export interface AdminAppDeps {
  upstream: Upstream;
  assets: AssetStore;
  relay: EventRelay;
  log: Log;
  /**
   * `socket`: on admin.sock, where trust is the socket's file mode (hero_router in front).
   * `listen`: on loopback TCP, with the Host check and the access token.
   */
  mode: "socket" | "listen";
  /** Required in `listen` mode. */
  access?: AccessToken;
}

type Env = { Variables: { base: string } };

const AGENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
// As the README writes it, for someone who has only npx (the admin does not import core).
const START = "npx -y deno@2.9.6 task start";

/** The discovery manifest of the admin socket. */
export function adminServiceManifest(): Record<string, unknown> {
  return {
    protocol: "ui",
    name: SERVICE_NAME,
    title: "Hero Orchestrator admin",
    version: ADMIN_VERSION,
    description: "Operator dashboard for claude CLI agents",
    socket: "admin",
  };
}

function wantsHtml(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html");
}

function problem(
  c: Context,
  status: 400 | 401 | 403 | 404 | 421 | 500 | 502,
  message: string,
) {
  if (wantsHtml(c)) {
    const body =
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status}</title>` +
      `<meta name="viewport" content="width=device-width, initial-scale=1"></head>` +
      `<body><h1>${status}</h1><p>${escapeHtml(message)}</p></body></html>`;
    return c.html(body, status);
  }
  return c.json({ error: { status, message } }, status);
}

/** The sign-in page's style: served without a session (the page has none), no inline CSS. */
const SIGNIN_CSS = `:root{color-scheme:light dark;font:16px/1.5 system-ui,sans-serif}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:light-dark(#f4f5f7,#16181d);color:light-dark(#1d2026,#e6e8ec)}
main{max-width:34rem;margin:1rem;padding:2rem;border-radius:12px;background:light-dark(#fff,#20232a);box-shadow:0 2px 12px #0002}
h1{font-size:1.4rem;margin:0 0 .75rem}
code{font:14px ui-monospace,monospace;padding:.1rem .35rem;border-radius:4px;background:light-dark(#eef0f3,#2c3038)}
ol{padding-left:1.25rem}.reason{color:light-dark(#a33a00,#ffb27a)}`;

/**
 * 401 for a browser: what happened and how to get in again; JSON for scripts. The token is
 * printed once per start, so the way in is a fresh start (open tabs keep their sessions).
 */
function signinPage(c: Context, reason: string) {
  c.header("cache-control", "no-store");
  if (!wantsHtml(c)) {
    return c.json({
      error: {
        status: 401,
        message: `${reason} Restart the admin (${START}) for a new link.`,
      },
    }, 401);
  }
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<title>Sign in · Hero Orchestrator</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<link rel="stylesheet" href="/signin.css"></head><body><main class="signin">` +
    `<h1>Sign in to Hero Orchestrator</h1><p class="reason">${escapeHtml(reason)}</p>` +
    `<p>The admin prints a one-time sign-in link in its terminal each time it starts. To get a ` +
    `new one:</p><ol><li>In the terminal running <code>${START}</code>, press ` +
    `<code>Ctrl-C</code>.</li><li>Run <code>${START}</code> again and open the link ` +
    `it prints (<code>hero_orchestrator is running. Open http://…/?token=…</code>).</li></ol>` +
    `<p>Browser tabs that are already signed in stay signed in across the restart.</p>` +
    `</main></body></html>`;
  return c.html(body, 401);
}

/** Builds the app. */
export function createAdminApp(deps: AdminAppDeps): Hono<Env> {
  if (deps.mode === "listen" && !deps.access) {
    throw new TypeError("Cannot create the admin app: listen mode needs an access token");
  }
  const app = new Hono<Env>();

  app.use("*", async function securityHeaders(c: Context<Env>, next: Next) {
    await next();
    c.header("content-security-policy", CONTENT_SECURITY_POLICY);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    c.header("x-frame-options", "DENY");
    c.header("cross-origin-opener-policy", "same-origin");
    c.header("cross-origin-resource-policy", "same-origin");
  });

  if (deps.mode === "listen") {
    const access = deps.access!;
    app.use("*", async function loopbackOnly(c: Context<Env>, next: Next) {
      // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
      if (!isLoopbackHost(c.req.header("host") ?? null)) {
        return problem(c, 421, "This admin only answers to localhost, 127.0.0.1 or [::1]");
      }
      await next();
    });
    app.get("/signin.css", function signinCss(c) {
      c.header("cache-control", "no-store");
      return c.body(SIGNIN_CSS, 200, { "content-type": "text/css; charset=utf-8" });
    });
    app.use("*", async function accessToken(c: Context<Env>, next: Next) {
      if (c.req.path === "/health" || c.req.path === "/signin.css") return await next();
      const url = new URL(c.req.url);
      const token = url.searchParams.get("token");
      const cookieHeader = c.req.header("cookie") ?? null;
      const signedIn = await access.matchesCookie(cookieHeader);
      if (token !== null && (c.req.method === "GET" || c.req.method === "HEAD")) {
        const fresh = access.consume(token);
        // A used link in a signed-in tab (a reload, the history) just drops the token.
        if (!fresh && !signedIn) {
          const used = access.matchesToken(token);
          return signinPage(
            c,
            used
              ? "This sign-in link was already used. Each link opens one browser session, once."
              : "This sign-in link is not valid (it may be from an earlier start of the admin).",
          );
        }
        url.searchParams.delete("token");
        const location = `${url.pathname}${url.search}`;
        const headers: Record<string, string> = {
          location,
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        };
        if (fresh) headers["set-cookie"] = await access.setCookie();
        return new Response(null, { status: 303, headers });
      }
      if (!signedIn) {
        return signinPage(c, "You are not signed in to this admin, or your session has ended.");
      }
      await next();
    });
  }

  app.use("*", async function prefix(c: Context<Env>, next: Next) {
    const base = forwardedPrefix(c.req.header("x-forwarded-prefix"));
    if (base === null) return problem(c, 400, "X-Forwarded-Prefix is not a valid path prefix");
    c.set("base", base);
    await next();
  });

  app.use("*", async function sameOrigin(c: Context<Env>, next: Next) {
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
      const reason = crossSiteReason(c.req.raw.headers, {
        trustForwardedHost: deps.mode === "socket",
      });
      if (reason !== null) {
        deps.log("warn", "cross-site request refused", { path: c.req.path, reason });
        return problem(c, 403, `Cross-site requests are refused: ${reason}`);
      }
    }
    await next();
  });

  app.get("/health", function health(c) {
    return c.json({ status: "ok", service: SERVICE_NAME, version: ADMIN_VERSION, socket: "admin" });
  });

  app.get("/.well-known/heroservice.json", function manifest(c) {
    return c.json(adminServiceManifest());
  });

  app.get("/openrpc.json", async function openrpc(c) {
    try {
      const answer = await deps.upstream.fetch("/openrpc.json");
      return new Response(answer.body, {
        status: answer.status,
        headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
      });
    } catch (err) {
      deps.log("warn", "cannot fetch openrpc.json", { error: errorText(err) });
      return c.json({
        error: { status: 502, message: "Cannot reach hero_orchestrator_server" },
      }, 502);
    }
  });

  app.post(
    "/rpc",
    rpcPassThrough({
      upstream: deps.upstream,
      log: deps.log,
      forwardHeroHeaders: deps.mode === "socket",
    }),
  );

  app.get("/events", function events(c) {
    return deps.relay.handle(c.req.raw);
  });

  // Transcript downloads stream from the server as they are; nothing of the caller's goes on.
  app.get("/export/:file", async function exportTranscript(c) {
    const file = c.req.param("file");
    if (!/^[A-Za-z0-9_-]{1,64}\.(jsonl|md)$/.test(file)) return problem(c, 404, "Not found");
    let answer: Response;
    try {
      answer = await deps.upstream.fetch(`/export/${file}`);
    } catch (err) {
      deps.log("warn", "export pass-through failed", { error: errorText(err) });
      return problem(c, 502, "Cannot reach hero_orchestrator_server: is it running?");
    }
    if (!answer.ok) {
      await answer.body?.cancel();
      return problem(c, answer.status === 404 ? 404 : 502, "No such agent");
    }
    const headers = new Headers({ "cache-control": "no-store" });
    for (const name of ["content-type", "content-disposition"]) {
      const value = answer.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(answer.body, { status: 200, headers });
  });

  app.get("/assets/*", serveAssets(deps.assets));
  app.get("/widget/hero-agent-widget.js", serveWidget(deps.assets));
  app.get("/widget/demo", widgetDemo);

  function page(c: Context<Env>, options: Omit<PageOptions, "base" | "theme" | "preload">) {
    c.header("cache-control", "no-store");
    return c.html(renderPage({
      ...options,
      base: c.get("base"),
      theme: themeFrom(c.req.header("cookie") ?? null),
      preload: deps.assets.preloadFor([
        "topbar",
        "search_box",
        ...options.islands.map((i) => i.name),
      ]),
    }));
  }

  app.get("/", function dashboard(c) {
    const cwd = c.req.query("cwd") ?? null;
    return page(c, {
      title: "Agents",
      current: "dashboard",
      mainClass: "page-dashboard",
      islands: [
        { name: "new_agent", props: { cwd }, className: "panel new-agent-panel" },
        { name: "dashboard", props: { cwd }, placeholder: "Loading agents…" },
      ],
    });
  });

  app.get("/agents/:id", function agentPage(c) {
    const id = c.req.param("id");
    if (!AGENT_ID.test(id)) return problem(c, 404, "No such agent");
    return page(c, {
      title: "Agent",
      current: "agent",
      mainClass: "page-agent",
      islands: [{ name: "agent", props: { id }, placeholder: "Loading agent…" }],
    });
  });

  app.get("/search", function searchPage(c) {
    return page(c, {
      title: "Search",
      current: "other",
      mainClass: "page-search",
      islands: [{ name: "search", placeholder: "Loading search…" }],
    });
  });

  app.notFound(function notFound(c) {
    return problem(c, 404, "Not found");
  });

  app.onError(function onError(err, c) {
    deps.log("error", "request failed", { path: c.req.path, error: errorText(err) });
    return problem(c, 500, "Internal error");
  });

  return app;
}
