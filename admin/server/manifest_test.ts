import assert from "node:assert/strict";
import {
  ADMIN_BINARY,
  buildManifest,
  readServiceToml,
  renderManifest,
  SERVICE_TOML,
} from "./manifest.ts";
import { serviceBinary } from "@hero/service/service_toml";
import { parseToml } from "@hero/service/toml";

Deno.test("service.toml: the admin binary, its socket and health check", () => {
  const svc = readServiceToml(SERVICE_TOML);
  assert.equal(svc.name, "hero_orchestrator");
  assert.equal(svc.category, "ai");
  assert.deepEqual(serviceBinary(svc, ADMIN_BINARY).sockets, ["admin"]);
  assert.equal(serviceBinary(svc, ADMIN_BINARY).kind, "admin");
  assert.deepEqual(svc.health, { socket: "admin", path: "/health" });
  assert.deepEqual(svc.env.map((e) => e.name), [
    "PATH_SOCKET",
    "HERO_SOCKET_DIR",
    "PATH_VAR",
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
