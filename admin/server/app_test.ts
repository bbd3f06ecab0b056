/**
 * The admin app in-process (`app.request()`), with a scripted upstream in place of rpc.sock.
 */
import assert from "node:assert/strict";
import { AccessToken } from "./access_token.ts";
import { type AdminAppDeps, createAdminApp } from "./app.ts";
import { AssetStore } from "./assets.ts";
import { noLog } from "@hero/service/log";
import { EventRelay } from "./relay.ts";
import type { Upstream } from "./upstream.ts";

interface Call {
  path: string;
  init: RequestInit;
}

function fakeUpstream(
  answer: (path: string, init: RequestInit) => Response | Promise<Response>,
): Upstream & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch(path, init = {}) {
      calls.push({ path, init });
      return Promise.resolve(answer(path, init));
    },
    close() {},
  };
}

const ASSETS = {
  "boot.js": 'import("./islands/x.js")',
  "app.css": "body{}",
  "islands/dashboard.js": 'import{a}from"../chunk-A.js";',
  "islands/new_agent.js": 'import{a}from"../chunk-A.js";import"../chunk-B.js";',
  "islands/topbar.js": 'import{a}from"../chunk-A.js";',
  "islands/agent.js": 'import{a}from"../chunk-A.js";',
  "chunk-A.js": "export const a=1;",
  "chunk-B.js": 'import{a}from"./chunk-A.js";',
};

async function app(
  mode: "socket" | "listen",
  upstream: Upstream = fakeUpstream(() => new Response("{}")),
  token?: AccessToken,
) {
  const deps: AdminAppDeps = {
    upstream,
    assets: await AssetStore.fromFiles(ASSETS),
    relay: new EventRelay({ upstream, log: noLog, heartbeatMs: 60_000 }),
    log: noLog,
    mode,
    ...(token ? { access: token } : {}),
  };
  return createAdminApp(deps);
}

Deno.test("admin app: every answer carries the CSP and hardening headers", async () => {
  const a = await app("socket");
  for (const path of ["/", "/health", "/assets/boot.js", "/nope", "/agents/abc"]) {
    const r = await a.request(path);
    await r.body?.cancel();
    const csp = r.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, /script-src 'self'(;|$)/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(r.headers.get("x-frame-options"), "DENY");
    assert.equal(r.headers.get("referrer-policy"), "no-referrer");
  }
});

Deno.test("admin app: health and discovery manifest (protocol ui)", async () => {
  const a = await app("socket");
  const health = await (await a.request("/health")).json();
  assert.equal(health.status, "ok");
  assert.equal(health.service, "hero_orchestrator");
  const manifest = await (await a.request("/.well-known/heroservice.json")).json();
  assert.equal(manifest.protocol, "ui");
  assert.equal(manifest.socket, "admin");
  assert.equal(manifest.name, "hero_orchestrator");
});

Deno.test("admin app: pages use X-Forwarded-Prefix for every URL, escaped", async () => {
  const a = await app("socket");
  const html = await (await a.request("/", {
    headers: { "x-forwarded-prefix": "/hero_orchestrator/admin" },
  })).text();
  assert.match(html, /<meta name="hero-base" content="\/hero_orchestrator\/admin">/);
  assert.match(html, /src="\/hero_orchestrator\/admin\/assets\/boot\.js"/);
  assert.match(html, /href="\/hero_orchestrator\/admin\/assets\/app\.css"/);
  assert.match(html, /href="\/hero_orchestrator\/admin\/"/);
  // every root-relative URL in the page is under the prefix
  for (const m of html.matchAll(/(?:src|href)="(\/[^"]*)"/g)) {
    assert.ok(m[1]!.startsWith("/hero_orchestrator/admin/"), m[1]);
  }
  // no inline script or style, no event handler attributes
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/);
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
  // modulepreload of the page's islands and their chunks
  for (
    const m of [
      "islands/dashboard.js",
      "islands/new_agent.js",
      "islands/topbar.js",
      "chunk-A.js",
      "chunk-B.js",
    ]
  ) {
    assert.ok(
      html.includes(`<link rel="modulepreload" href="/hero_orchestrator/admin/assets/${m}">`),
      m,
    );
  }
  assert.ok(!html.includes("islands/agent.js"));

  const root = await (await a.request("/")).text();
  assert.match(root, /<meta name="hero-base" content="">/);
  assert.match(root, /src="\/assets\/boot\.js"/);
});

Deno.test("admin app: an invalid X-Forwarded-Prefix is refused", async () => {
  const a = await app("socket");
  const r = await a.request("/", {
    headers: { "x-forwarded-prefix": '/x"><script>alert(1)</script>' },
  });
  assert.equal(r.status, 400);
  assert.ok(!(await r.text()).includes("<script>"));
});

Deno.test("admin app: island props and the cwd query are escaped into attributes", async () => {
  const a = await app("socket");
  const evil = `"><img src=x onerror=alert(1)>'&`;
  const html = await (await a.request(`/?cwd=${encodeURIComponent(evil)}`)).text();
  assert.ok(!html.includes("<img"));
  assert.ok(html.includes("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;"));
  const agent = await a.request("/agents/%3Cscript%3E");
  assert.equal(agent.status, 404);
  assert.ok(!(await agent.text()).includes("<script>"));
});

Deno.test("admin app: theme cookie sets data-theme, anything else is auto", async () => {
  const a = await app("socket");
  const dark = await (await a.request("/", { headers: { cookie: "hero_admin_theme=dark" } }))
    .text();
  assert.match(dark, /<html lang="en" data-theme="dark">/);
  const odd = await (await a.request("/", { headers: { cookie: 'hero_admin_theme="><x' } })).text();
  assert.match(odd, /data-theme="auto"/);
});

Deno.test("admin app: assets are served with types and ETags; unknown ones 404", async () => {
  const a = await app("socket");
  const r = await a.request("/assets/boot.js");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
  const etag = r.headers.get("etag")!;
  await r.body?.cancel();
  const again = await a.request("/assets/boot.js", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal((await a.request("/assets/islands/x.js")).status, 404);
  assert.equal((await a.request("/assets/%E0%A4%A")).status, 404);
  assert.equal((await a.request("/assets/../main.ts")).status, 404);
});

Deno.test("admin app: POST /rpc passes the JSON body through and nothing else", async () => {
  const upstream = fakeUpstream(() =>
    new Response('{"jsonrpc":"2.0","id":1,"result":{"ok":true}}', {
      headers: { "content-type": "application/json" },
    })
  );
  const a = await app("socket", upstream);
  const body = '{"jsonrpc":"2.0","id":1,"method":"system.health","params":{}}';
  const r = await a.request("/rpc", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      cookie: "secret=1",
      authorization: "Bearer x",
      "x-hero-context": "ctx-1",
      "sec-fetch-site": "same-origin",
    },
    body,
  });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { jsonrpc: "2.0", id: 1, result: { ok: true } });
  const call = upstream.calls[0]!;
  assert.equal(call.path, "/rpc");
  assert.equal(new TextDecoder().decode(call.init.body as Uint8Array), body);
  const sent = call.init.headers as Record<string, string>;
  assert.deepEqual(Object.keys(sent).sort(), ["content-type", "x-hero-context"]);
});

Deno.test("admin app: POST /rpc refuses other content types (415), big bodies (413), cross-site (403)", async () => {
  const upstream = fakeUpstream(() => new Response("{}"));
  const a = await app("socket", upstream);
  const text = await a.request("/rpc", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: '{"jsonrpc":"2.0","id":1,"method":"agent.create","params":{}}',
  });
  assert.equal(text.status, 415);
  const form = await a.request("/rpc", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "a=1",
  });
  assert.equal(form.status, 415);
  const big = await a.request("/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "[" + "1,".repeat(600_000) + "1]",
  });
  assert.equal(big.status, 413);
  const cross = await a.request("/rpc", {
    method: "POST",
    headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" },
    body: "{}",
  });
  assert.equal(cross.status, 403);
  const evil = await a.request("http://localhost/rpc", {
    method: "POST",
    headers: { "content-type": "application/json", origin: "https://evil.example" },
    body: "{}",
  });
  assert.equal(evil.status, 403);
  assert.equal(upstream.calls.length, 0, "nothing reached the server");
  // a state-changing GET does not exist
  assert.equal((await a.request("/rpc")).status, 404);
});

Deno.test("admin app: POST /rpc answers 502 with a JSON-RPC error when the server is down", async () => {
  const upstream: Upstream = {
    fetch: () => Promise.reject(new TypeError("connection refused")),
    close() {},
  };
  const a = await app("socket", upstream);
  const r = await a.request("/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"jsonrpc":"2.0","id":1,"method":"system.health","params":{}}',
  });
  assert.equal(r.status, 502);
  const body = await r.json();
  assert.equal(body.error.code, -32603);
  assert.equal(body.error.data.code, "upstream_unavailable");
});

Deno.test("admin app: /openrpc.json comes from the server", async () => {
  const upstream = fakeUpstream((path) =>
    new Response(path === "/openrpc.json" ? '{"openrpc":"1.3.2"}' : "", {
      headers: { "content-type": "application/json" },
    })
  );
  const a = await app("socket", upstream);
  assert.deepEqual(await (await a.request("/openrpc.json")).json(), { openrpc: "1.3.2" });
});

Deno.test("listen mode: Host must be loopback (421), before anything else", async () => {
  const token = await AccessToken.create(8470);
  const a = await app("listen", undefined, token);
  for (const host of ["evil.example", "evil.example:8470", "127.0.0.1.evil.example"]) {
    const r = await a.request(`http://127.0.0.1:8470/?token=${token.token}`, { headers: { host } });
    assert.equal(r.status, 421, host);
    assert.equal(r.headers.get("set-cookie"), null);
  }
});

Deno.test("listen mode: the token URL sets the cookie once and redirects; the cookie then works", async () => {
  const token = await AccessToken.create(8470);
  const a = await app("listen", undefined, token);
  const host = { host: "127.0.0.1:8470" };
  const none = await a.request("http://127.0.0.1:8470/", { headers: host });
  assert.equal(none.status, 401);
  const bad = await a.request("http://127.0.0.1:8470/?token=nope", { headers: host });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get("set-cookie"), null);

  const ok = await a.request(`http://127.0.0.1:8470/?cwd=%2Fw&token=${token.token}`, {
    headers: host,
  });
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("location"), "/?cwd=%2Fw", "the token leaves the URL");
  const cookie = ok.headers.get("set-cookie")!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const jar = cookie.split(";")[0]!;

  const page = await a.request("http://127.0.0.1:8470/?cwd=%2Fw", {
    headers: { ...host, cookie: jar },
  });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /data-island="dashboard"/);
  for (const path of ["/assets/boot.js", "/.well-known/heroservice.json", "/openrpc.json"]) {
    assert.equal(
      (await a.request(`http://127.0.0.1:8470${path}`, { headers: host })).status,
      401,
      path,
    );
    const r = await a.request(`http://127.0.0.1:8470${path}`, {
      headers: { ...host, cookie: jar },
    });
    await r.body?.cancel();
    assert.equal(r.status, 200, path);
  }
  // The token is one-time: a second exchange (another browser) is refused with a page that
  // says how to get in again; the signed-in browser reloading the old URL just drops the token.
  const again = await a.request(`http://127.0.0.1:8470/?token=${token.token}`, {
    headers: { ...host, accept: "text/html" },
  });
  assert.equal(again.status, 401);
  assert.equal(again.headers.get("set-cookie"), null);
  const text = await again.text();
  assert.match(text, /already used/);
  assert.match(text, /npx -y deno@2\.9\.6 task start/);
  assert.match(text, /href="\/signin.css"/);
  const css = await a.request("http://127.0.0.1:8470/signin.css", { headers: host });
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type")!, /text\/css/);
  await css.body?.cancel();
  const reload = await a.request(`http://127.0.0.1:8470/?token=${token.token}`, {
    headers: { ...host, cookie: jar },
  });
  assert.equal(reload.status, 303);
  assert.equal(reload.headers.get("set-cookie"), null);
  // /health stays open (lab probes it)
  assert.equal((await a.request("http://127.0.0.1:8470/health", { headers: host })).status, 200);
});

Deno.test("listen mode: cross-site state changes are refused even with the cookie", async () => {
  const token = await AccessToken.create(8470);
  const upstream = fakeUpstream(() =>
    new Response("{}", { headers: { "content-type": "application/json" } })
  );
  const a = await app("listen", upstream, token);
  const jar = (await token.setCookie()).split(";")[0]!;
  const base = { host: "127.0.0.1:8470", cookie: jar, "content-type": "application/json" };
  const cases: Array<[Record<string, string>, number]> = [
    [{ origin: "https://evil.example" }, 403],
    [{ "sec-fetch-site": "cross-site" }, 403],
    [{ "sec-fetch-site": "same-site" }, 403],
    [{ origin: "http://127.0.0.1:8471" }, 403],
    // X-Forwarded-Host is not trusted on the TCP listener
    [{ origin: "https://evil.example", "x-forwarded-host": "evil.example" }, 403],
    [{ origin: "http://127.0.0.1:8470", "sec-fetch-site": "same-origin" }, 200],
  ];
  for (const [extra, status] of cases) {
    const r = await a.request("http://127.0.0.1:8470/rpc", {
      method: "POST",
      headers: { ...base, ...extra },
      body: "{}",
    });
    await r.body?.cancel();
    assert.equal(r.status, status, JSON.stringify(extra));
  }
  assert.equal(upstream.calls.length, 1);
  // the token in a POST URL is not an access path
  const viaToken = await a.request(`http://127.0.0.1:8470/rpc?token=${token.token}`, {
    method: "POST",
    headers: { host: "127.0.0.1:8470", "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(viaToken.status, 401);
});

Deno.test("listen mode: the app refuses to be built without a token", () => {
  const upstream = fakeUpstream(() => new Response("{}"));
  assert.throws(
    () =>
      createAdminApp({
        upstream,
        assets: new AssetStore(new Map()),
        relay: new EventRelay({ upstream, log: noLog }),
        log: noLog,
        mode: "listen",
      }),
    TypeError,
  );
});
