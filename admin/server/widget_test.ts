/**
 * The widget routes in-process: the built script (ETag, no-cache, under any prefix), the demo
 * page (escaped, CSP allowing blob: audio), and the RPC pass-through handing the router's
 * X-Hero-Context to the server on admin.sock only.
 */
import assert from "node:assert/strict";
import { createAdminApp } from "./app.ts";
import { AssetStore } from "./assets.ts";
import { noLog } from "@hero/service/log";
import { EventRelay } from "./relay.ts";
import type { Upstream } from "./upstream.ts";
import { renderWidgetDemo, WIDGET_ASSET } from "./widget.ts";

const SCRIPT = "(()=>{customElements.define('hero-agent-widget',class extends HTMLElement{})})();";

async function app(mode: "socket" | "listen", withWidget = true) {
  const seen: Array<{ path: string; headers: Headers }> = [];
  const upstream: Upstream = {
    fetch(path, init = {}) {
      seen.push({ path, headers: new Headers(init.headers) });
      return Promise.resolve(Response.json({ jsonrpc: "2.0", id: 1, result: {} }));
    },
    close() {},
  };
  const assets = await AssetStore.fromFiles({
    "boot.js": "",
    "app.css": "",
    ...(withWidget ? { [WIDGET_ASSET]: SCRIPT } : {}),
  });
  const a = createAdminApp({
    upstream,
    assets,
    relay: new EventRelay({ upstream, log: noLog, heartbeatMs: 60_000 }),
    log: noLog,
    mode,
    ...(mode === "listen"
      ? {
        access: {
          matchesToken: () => true,
          matchesCookie: () => true,
          setCookie: () => "x=y",
        } as never,
      }
      : {}),
  });
  return { app: a, seen };
}

Deno.test("GET /widget/hero-agent-widget.js serves the built script with an ETag", async () => {
  const { app: a } = await app("socket");
  const r = await a.request("/widget/hero-agent-widget.js", {
    headers: { "x-forwarded-prefix": "/hero_orchestrator/admin" },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(r.headers.get("cache-control"), "no-cache");
  assert.equal(await r.text(), SCRIPT);
  const etag = r.headers.get("etag")!;
  const again = await a.request("/widget/hero-agent-widget.js", {
    headers: { "if-none-match": etag },
  });
  assert.equal(again.status, 304);
  await again.body?.cancel();
  const { app: bare } = await app("socket", false);
  const missing = await bare.request("/widget/hero-agent-widget.js");
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /build:admin/);
});

Deno.test("GET /widget/demo embeds one widget per home-mcp, escaped, under the prefix", async () => {
  const { app: a } = await app("socket");
  const r = await a.request(
    `/widget/demo?home-mcp=hero_books&home-mcp=${encodeURIComponent('"><script>x</script>')}`,
    { headers: { "x-forwarded-prefix": "/hero_orchestrator/admin" } },
  );
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.match(
    html,
    /<script src="\/hero_orchestrator\/admin\/widget\/hero-agent-widget\.js" defer><\/script>/,
  );
  assert.match(html, /<hero-agent-widget home-mcp="hero_books"><\/hero-agent-widget>/);
  assert.match(html, /home-mcp="&quot;&gt;&lt;script&gt;x&lt;\/script&gt;"/);
  assert.doesNotMatch(html, /<script>x/);
  assert.match(r.headers.get("content-security-policy")!, /media-src 'self' blob:/);
  assert.match(r.headers.get("content-security-policy")!, /script-src 'self';/);
  assert.match(renderWidgetDemo("", []), /add \?home-mcp=hero_books/);
});

Deno.test("POST /rpc passes the router's X-Hero-Context on admin.sock, never on TCP", async () => {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "system.info", params: {} });
  for (const mode of ["socket", "listen"] as const) {
    const { app: a, seen } = await app(mode);
    const r = await a.request("http://localhost/rpc", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hero-context": "tenant=books",
        "sec-fetch-site": "same-origin",
        host: "localhost",
      },
      body,
    });
    assert.equal(r.status, 200, mode);
    await r.body?.cancel();
    assert.equal(
      seen.at(-1)!.headers.get("x-hero-context"),
      mode === "socket" ? "tenant=books" : null,
      mode,
    );
  }
});
