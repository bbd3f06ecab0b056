import assert from "node:assert/strict";
import { homeCwd, homeMcpUrl, isHomeMcp, resolveHomeMcpSettings } from "./home_mcp.ts";
import { resolveEngineSettings } from "./engine.ts";

Deno.test("resolveHomeMcpSettings() defaults to the local router and /mcp/{service}", () => {
  const s = resolveHomeMcpSettings({});
  assert.deepEqual({ ...s, cwds: { ...s.cwds } }, {
    routerUrl: "http://127.0.0.1:9988",
    pathTemplate: "/mcp/{service}",
    cwds: {},
    defaultCwd: null,
  });
  assert.equal(homeMcpUrl(s, "hero_books"), "http://127.0.0.1:9988/mcp/hero_books");
  assert.deepEqual(resolveEngineSettings({}).homeMcp.routerUrl, "http://127.0.0.1:9988");
});

Deno.test("resolveHomeMcpSettings() reads the router URL, the template and the cwds", () => {
  const s = resolveHomeMcpSettings({
    HERO_ROUTER_URL: "https://router.example:8443/base/",
    HERO_ORCHESTRATOR_MCP_PATH_TEMPLATE: "/gw/{service}/mcp",
    HERO_ORCHESTRATOR_HOME_CWDS: " hero_books=/srv/books/ , hero_x2=/srv/x ",
    HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: "/srv/default",
  });
  assert.equal(homeMcpUrl(s, "hero_books"), "https://router.example:8443/base/gw/hero_books/mcp");
  assert.equal(homeCwd(s, "hero_books"), "/srv/books");
  assert.equal(homeCwd(s, "hero_x2"), "/srv/x");
  assert.equal(homeCwd(s, "hero_other"), "/srv/default");
  assert.equal(homeCwd({ cwds: {}, defaultCwd: null }, "hero_other"), null);
  // No prototype key is ever a configured service.
  assert.equal(homeCwd(resolveHomeMcpSettings({}), "hero___proto__"), null);
});

Deno.test("resolveHomeMcpSettings() refuses bad values, naming the variable", () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ HERO_ROUTER_URL: "ftp://x" }, /HERO_ROUTER_URL/],
    [{ HERO_ROUTER_URL: "http://u:p@x" }, /credentials/],
    [{ HERO_ROUTER_URL: "http://x/?q=1" }, /HERO_ROUTER_URL/],
    [{ HERO_ORCHESTRATOR_MCP_PATH_TEMPLATE: "/mcp" }, /\{service\}/],
    [{ HERO_ORCHESTRATOR_MCP_PATH_TEMPLATE: "mcp/{service}" }, /starting with \//],
    [{ HERO_ORCHESTRATOR_HOME_CWDS: "books=/x" }, /HERO_ORCHESTRATOR_HOME_CWDS/],
    [{ HERO_ORCHESTRATOR_HOME_CWDS: "hero_books=relative" }, /absolute/],
    [{ HERO_ORCHESTRATOR_HOME_CWDS: "hero_books" }, /HERO_ORCHESTRATOR_HOME_CWDS/],
    [{ HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: "x" }, /HERO_ORCHESTRATOR_HOME_DEFAULT_CWD/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => resolveHomeMcpSettings(env), message, JSON.stringify(env));
  }
});

Deno.test("isHomeMcp() accepts canonical service names only", () => {
  for (const ok of ["hero_books", "hero_a", "hero_voice_2", "hero__x"]) {
    assert.ok(isHomeMcp(ok), ok);
  }
  for (
    const bad of [
      "",
      "hero_",
      "books",
      "Hero_books",
      "hero-books",
      "hero_books ",
      "hero_books/x",
      "hero_../x",
      `hero_${"a".repeat(60)}`,
      null,
      42,
    ]
  ) assert.ok(!isHomeMcp(bad), String(bad));
  assert.throws(() => homeMcpUrl(resolveHomeMcpSettings({}), "x/../y"), /not a service name/);
});
