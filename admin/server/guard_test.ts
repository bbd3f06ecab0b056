import assert from "node:assert/strict";
import { crossSiteReason, isJsonContentType, isLoopbackHost } from "./guard.ts";

Deno.test("isLoopbackHost() accepts loopback names with or without a port", () => {
  for (
    const host of [
      "localhost",
      "localhost:8470",
      "LOCALHOST:1",
      "127.0.0.1",
      "127.0.0.1:80",
      "127.1.2.3:9",
      "[::1]",
      "[::1]:8470",
    ]
  ) assert.equal(isLoopbackHost(host), true, host);
});

Deno.test("isLoopbackHost() refuses other names (DNS rebinding)", () => {
  for (
    const host of [
      null,
      "",
      "evil.example",
      "evil.example:8470",
      "localhost.evil.example",
      "127.0.0.1.evil.example",
      "128.0.0.1",
      "127.0.0.256",
      "0.0.0.0:8470",
      "[::2]",
      "10.0.0.1",
      "localhost:8470:1",
    ]
  ) assert.equal(isLoopbackHost(host), false, String(host));
});

function headers(init: Record<string, string>): Headers {
  return new Headers(init);
}

Deno.test("crossSiteReason() trusts Sec-Fetch-Site when the browser sends it", () => {
  assert.equal(crossSiteReason(headers({ "sec-fetch-site": "same-origin" })), null);
  assert.equal(crossSiteReason(headers({ "sec-fetch-site": "none" })), null);
  assert.match(crossSiteReason(headers({ "sec-fetch-site": "cross-site" }))!, /cross-site/);
  assert.match(crossSiteReason(headers({ "sec-fetch-site": "same-site" }))!, /same-site/);
  // Sec-Fetch-Site wins over a matching Origin.
  assert.ok(
    crossSiteReason(headers({
      "sec-fetch-site": "cross-site",
      origin: "http://127.0.0.1:1",
      host: "127.0.0.1:1",
    })),
  );
});

Deno.test("crossSiteReason() falls back to Origin against Host", () => {
  assert.equal(
    crossSiteReason(headers({ origin: "http://127.0.0.1:8470", host: "127.0.0.1:8470" })),
    null,
  );
  assert.match(
    crossSiteReason(headers({ origin: "https://evil.example", host: "127.0.0.1:8470" }))!,
    /evil\.example/,
  );
  assert.ok(crossSiteReason(headers({ origin: "null", host: "127.0.0.1:8470" })));
  assert.ok(crossSiteReason(headers({ origin: "not a url", host: "127.0.0.1:8470" })));
  assert.ok(crossSiteReason(headers({ origin: "http://127.0.0.1:9999", host: "127.0.0.1:8470" })));
});

Deno.test("crossSiteReason() accepts X-Forwarded-Host only when told to", () => {
  const h = headers({
    origin: "http://localhost:9988",
    host: "localhost",
    "x-forwarded-host": "localhost:9988",
  });
  assert.ok(crossSiteReason(h));
  assert.equal(crossSiteReason(h, { trustForwardedHost: true }), null);
});

Deno.test("crossSiteReason() lets non-browser clients through (no Origin, no Sec-Fetch-Site)", () => {
  assert.equal(crossSiteReason(headers({ host: "127.0.0.1:8470" })), null);
});

Deno.test("isJsonContentType() accepts application/json only", () => {
  assert.equal(isJsonContentType("application/json"), true);
  assert.equal(isJsonContentType("Application/JSON; charset=utf-8"), true);
  assert.equal(isJsonContentType("text/plain"), false);
  assert.equal(isJsonContentType("application/x-www-form-urlencoded"), false);
  assert.equal(isJsonContentType("multipart/form-data; boundary=x"), false);
  assert.equal(isJsonContentType(null), false);
});
