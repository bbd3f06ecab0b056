import assert from "node:assert/strict";
import {
  AccessToken,
  loadSessionSecret,
  readCookie,
  SESSION_MAX_AGE_S,
  timingSafeEqual,
} from "./access_token.ts";

Deno.test("AccessToken.create() makes a 256-bit base64url token, different each time", async () => {
  const a = await AccessToken.create(8470);
  const b = await AccessToken.create(8470);
  assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.token, b.token);
});

Deno.test("AccessToken: the token matches, other values do not", async () => {
  const t = await AccessToken.create(1, { token: "x".repeat(43) });
  assert.equal(t.matchesToken("x".repeat(43)), true);
  assert.equal(t.matchesToken("x".repeat(42) + "y"), false);
  assert.equal(t.matchesToken("x".repeat(42)), false);
  assert.equal(t.matchesToken(""), false);
  assert.equal(t.matchesToken(null), false);
});

Deno.test("AccessToken: the token is consumed by its first exchange", async () => {
  const t = await AccessToken.create(1);
  assert.equal(t.consume("y".repeat(43)), false);
  assert.equal(t.consumed, false, "a wrong guess does not burn the token");
  assert.equal(t.consume(t.token), true);
  assert.equal(t.consumed, true);
  assert.equal(t.consume(t.token), false, "the second use is refused");
  assert.equal(t.matchesToken(t.token), true, "still recognised, to say it was used");
});

Deno.test("AccessToken: the session cookie is HttpOnly, SameSite=Strict, signed, never the token", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const t = await AccessToken.create(8470, { secret });
  const cookie = await t.setCookie();
  assert.match(
    cookie,
    /^hero_admin_8470=\d+\.[A-Za-z0-9_-]{22}\.[0-9a-f]{64}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
  );
  assert.ok(!cookie.includes(t.token));
  const value = cookie.split(";")[0]!;
  assert.equal(await t.matchesCookie(value), true);
  assert.equal(await t.matchesCookie(`theme=dark; ${value}; other=1`), true);
  assert.equal(await t.matchesCookie(`hero_admin_8470=${t.token}`), false);
  assert.equal(await t.matchesCookie(value.replace(/.$/, (c) => (c === "0" ? "1" : "0"))), false);
  assert.equal(await t.matchesCookie(null), false);
  // A restarted admin (new token, same key) accepts it; one with another key or port does not.
  const restarted = await AccessToken.create(8470, { secret });
  assert.notEqual(restarted.token, t.token);
  assert.equal(await restarted.matchesCookie(value), true);
  const otherKey = await AccessToken.create(8470);
  assert.equal(await otherKey.matchesCookie(value), false);
  const otherPort = await AccessToken.create(8471, { secret });
  assert.equal(await otherPort.matchesCookie(value.replace("8470", "8471")), false);
  // Sessions end after SESSION_MAX_AGE_S.
  const later = await AccessToken.create(8470, {
    secret,
    now: () => Math.floor(Date.now() / 1000) + SESSION_MAX_AGE_S + 120,
  });
  assert.equal(await later.matchesCookie(value), false);
});

Deno.test("loadSessionSecret(): created 0600 once, then read back; refuses a readable key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = loadSessionSecret(`${dir}/var/admin`);
    assert.equal(a.length, 32);
    assert.equal(Deno.statSync(`${dir}/var/admin/session.key`).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(`${dir}/var/admin`).mode! & 0o777, 0o700);
    assert.deepEqual(loadSessionSecret(`${dir}/var/admin`), a);
    Deno.chmodSync(`${dir}/var/admin/session.key`, 0o644);
    assert.throws(() => loadSessionSecret(`${dir}/var/admin`), /readable by others/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
