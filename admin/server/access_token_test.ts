import assert from "node:assert/strict";
import { AccessToken, readCookie, timingSafeEqual } from "./access_token.ts";

Deno.test("AccessToken.create() makes a 256-bit base64url token, different each time", async () => {
  const a = await AccessToken.create(8470);
  const b = await AccessToken.create(8470);
  assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.token, b.token);
});

Deno.test("AccessToken: the token matches, other values do not", async () => {
  const t = await AccessToken.create(1, "x".repeat(43));
  assert.equal(t.matchesToken("x".repeat(43)), true);
  assert.equal(t.matchesToken("x".repeat(42) + "y"), false);
  assert.equal(t.matchesToken("x".repeat(42)), false);
  assert.equal(t.matchesToken(""), false);
  assert.equal(t.matchesToken(null), false);
});

Deno.test("AccessToken: the cookie is HttpOnly, SameSite=Strict and never holds the token", async () => {
  const t = await AccessToken.create(8470);
  const cookie = t.setCookie();
  assert.match(cookie, /^hero_admin_8470=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.ok(!cookie.includes(t.token));
  const value = cookie.split(";")[0]!;
  assert.equal(t.matchesCookie(value), true);
  assert.equal(t.matchesCookie(`theme=dark; ${value}; other=1`), true);
  assert.equal(t.matchesCookie(`hero_admin_8470=${t.token}`), false);
  assert.equal(t.matchesCookie(value.replace(/.$/, (c) => (c === "0" ? "1" : "0"))), false);
  assert.equal(t.matchesCookie(null), false);
  // Another port's admin does not accept this cookie.
  const other = await AccessToken.create(8471, t.token);
  assert.equal(other.matchesCookie(value), false);
});

Deno.test("readCookie() finds one cookie among many", () => {
  assert.equal(readCookie("a=1; b=2;c=3", "b"), "2");
  assert.equal(readCookie("a=1", "b"), null);
  assert.equal(readCookie(null, "a"), null);
  assert.equal(readCookie("ab=1; a=2", "a"), "2");
});

Deno.test("timingSafeEqual() compares exactly", () => {
  assert.equal(timingSafeEqual("abc", "abc"), true);
  assert.equal(timingSafeEqual("abc", "abd"), false);
  assert.equal(timingSafeEqual("abc", "ab"), false);
  assert.equal(timingSafeEqual("", ""), true);
});
