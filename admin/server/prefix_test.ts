import assert from "node:assert/strict";
import { forwardedPrefix } from "./prefix.ts";

Deno.test("forwardedPrefix() is empty without a header or for /", () => {
  assert.equal(forwardedPrefix(null), "");
  assert.equal(forwardedPrefix(undefined), "");
  assert.equal(forwardedPrefix(""), "");
  assert.equal(forwardedPrefix("/"), "");
  assert.equal(forwardedPrefix("  "), "");
});

Deno.test("forwardedPrefix() keeps a router prefix without its trailing slash", () => {
  assert.equal(forwardedPrefix("/hero_orchestrator/admin"), "/hero_orchestrator/admin");
  assert.equal(forwardedPrefix("/hero_orchestrator/admin/"), "/hero_orchestrator/admin");
  assert.equal(forwardedPrefix(" /a.b/c-d/e~f "), "/a.b/c-d/e~f");
});

Deno.test("forwardedPrefix() refuses anything that is not a plain absolute path", () => {
  for (
    const bad of [
      "hero/admin",
      "//evil.example/x",
      "/a//b",
      "/a/../b",
      "/./a",
      "/a/..",
      "https://evil.example",
      "javascript:alert(1)",
      '/a"><script>alert(1)</script>',
      "/a b",
      "/a?b",
      "/a#b",
      "/a%2e%2e",
      "/\u202e",
      `/${"a".repeat(300)}`,
    ]
  ) {
    assert.equal(forwardedPrefix(bad), null, bad);
  }
});
