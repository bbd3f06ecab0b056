import assert from "node:assert/strict";
import { buildManifest, readServiceToml, renderManifest, SERVICE_TOML } from "./manifest.ts";
import { parseToml, stringifyToml } from "./toml.ts";

Deno.test("service.toml: the admin binary, its socket and health check", () => {
  const svc = readServiceToml(SERVICE_TOML);
  assert.equal(svc.name, "hero_orchestrator");
  assert.equal(svc.category, "ai");
  assert.deepEqual(svc.binary.sockets, ["admin"]);
  assert.equal(svc.binary.kind, "admin");
  assert.deepEqual(svc.health, { socket: "admin", path: "/health" });
  assert.deepEqual(svc.env.map((e) => e.name), [
    "PATH_SOCKET",
    "HERO_SOCKET_DIR",
    "HOME",
    "HERO_ORCHESTRATOR_LOG_LEVEL",
  ]);
});

Deno.test("service.toml: the admin version is the contract version", async () => {
  const openrpc = JSON.parse(
    await Deno.readTextFile(new URL("../../openrpc.json", import.meta.url)),
  );
  assert.equal(buildManifest({ HOME: "/h" }).version, openrpc.info.version);
});

Deno.test("buildManifest() resolves sockets like the server: PATH_SOCKET, HERO_SOCKET_DIR, HOME", () => {
  assert.equal(
    buildManifest({ PATH_SOCKET: "/s/", HOME: "/h" }).sockets[0]!.path,
    "/s/hero_orchestrator/admin.sock",
  );
  assert.equal(
    buildManifest({ HERO_SOCKET_DIR: "/old", HOME: "/h" }).upstream,
    "/old/hero_orchestrator/rpc.sock",
  );
  const m = buildManifest({ HOME: "/h" });
  assert.equal(m.sockets[0]!.path, "/h/hero/var/sockets/hero_orchestrator/admin.sock");
  assert.equal(m.sockets[0]!.protocol, "ui");
  assert.equal(m.kind, "admin");
  assert.equal(buildManifest({}).paths.socket_dir, "~/hero/var/sockets/hero_orchestrator");
});

Deno.test("renderManifest(): TOML round-trips, JSON parses", () => {
  const m = buildManifest({ HOME: "/h" });
  const toml = parseToml(renderManifest(m, "toml"));
  assert.equal(toml.binary, "hero_orchestrator_admin");
  assert.deepEqual(JSON.parse(renderManifest(m, "json")), m);
});

Deno.test("parseToml(): the subset, and errors that name the line", () => {
  const t = parseToml(
    'a = "x" # c\nb = [1, true, "y"]\n[t]\nk = 2\n[[arr]]\nn = "1"\n[[arr]]\nn = "2"\n',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(t)), {
    a: "x",
    b: [1, true, "y"],
    t: { k: 2 },
    arr: [{ n: "1" }, { n: "2" }],
  });
  assert.throws(() => parseToml("a = 1\na = 2"), /line 2: duplicate key/);
  assert.throws(() => parseToml('a = "x'), /line 1: unterminated string/);
  assert.throws(() => parseToml("__proto__ = 1\nconstructor = 2\n[x]]"), SyntaxError);
  assert.equal(stringifyToml({ a: 'q"', t: { b: 1 } }), 'a = "q\\""\n\n[t]\nb = 1\n');
});
