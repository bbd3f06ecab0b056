/**
 * The embeddable `<hero-agent-widget>`: `GET /widget/hero-agent-widget.js` (the built script) and
 * `GET /widget/demo?home-mcp=<service>` (a page that embeds one widget per `home-mcp` value, to try
 * it and to show the snippet). Both live under the router prefix like every admin route, so the
 * script's own URL tells the widget where `…/rpc` and `…/events` are.
 * @module
 */
import type { Context } from "hono";
import { assetResponse, type AssetStore } from "./assets.ts";
import { escapeHtml } from "./shell.ts";

/** Where the build writes the widget (see `tools/build_admin.ts`). */
export const WIDGET_ASSET = "widget/hero-agent-widget.js";

/** `GET /widget/hero-agent-widget.js`. */
export function serveWidget(assets: AssetStore) {
  return function widgetScript(c: Context): Response {
    const file = assets.get(WIDGET_ASSET);
    if (!file) return c.text("The widget is not built (run `deno task build:admin`)", 404);
    return assetResponse(c, file);
  };
}

/** The demo page for `homeMcps` (shown as given: the widget itself rejects invalid names). */
export function renderWidgetDemo(base: string, homeMcps: string[]): string {
  const b = escapeHtml(base);
  const widgets = homeMcps.slice(0, 8).map((name) =>
    `<hero-agent-widget home-mcp="${escapeHtml(name)}"></hero-agent-widget>`
  ).join("\n");
  const snippet = escapeHtml(
    `<script src="${base}/widget/hero-agent-widget.js" defer></script>\n` +
      `<hero-agent-widget home-mcp="${homeMcps[0] ?? "hero_books"}"></hero-agent-widget>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Agent widget · Hero Orchestrator</title>
<link rel="icon" href="${b}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${b}/assets/app.css">
<script src="${b}/widget/hero-agent-widget.js" defer></script>
</head>
<body>
<header class="topbar">
<a class="brand" href="${b}/"><span class="brand-mark" aria-hidden="true"></span>Hero Orchestrator</a>
<nav class="topnav" aria-label="Widgets">
${widgets || "<span>No widget: add ?home-mcp=hero_books to the address</span>"}
</nav>
</header>
<main id="main">
<h1>Agent widget</h1>
<p>Other Hero services put the agent composer in their navbar with one script and one tag:</p>
<pre><code>${snippet}</code></pre>
<form method="get">
<label>home-mcp <input name="home-mcp" placeholder="hero_books" pattern="hero_[a-z0-9_]+" required></label>
<button type="submit">Show</button>
</form>
</main>
</body>
</html>
`;
}

/** `GET /widget/demo`. */
export function widgetDemo(c: Context<{ Variables: { base: string } }>): Response {
  c.header("cache-control", "no-store");
  const names = c.req.queries("home-mcp") ?? [];
  return c.html(renderWidgetDemo(c.get("base"), names));
}
