import assert from "node:assert/strict";
import { buildManifest, readServiceToml, renderManifest, SERVICE_TOML } from "./manifest.ts";
import { parseToml } from "@hero/service/toml";
import { DENO_DIR, MAIN_TS, REPO_ROOT } from "./testing/daemon.ts";

Deno.test("service.toml parses and describes the server binary", () => {
  const svc = readServiceToml(SERVICE_TOML);
  assert.equal(svc.name, "hero_orchestrator");
  assert.equal(svc.category, "ai");
  assert.deepEqual(svc.binaries.map((b) => [b.name, b.kind, b.sockets]), [
    ["hero_orchestrator_server", "server", ["rpc"]],
  ]);
  assert.deepEqual(svc.health, { socket: "rpc", path: "/health" });
  const names = svc.env.map((e) => e.name);
  for (
    const name of ["PATH_VAR", "PATH_SOCKET", "HERO_SOCKET_DIR", "HERO_ORCHESTRATOR_CLAUDE_BIN"]
  ) {
    assert.ok(names.includes(name), `${name} is documented`);
  }
  assert.equal(new Set(names).size, names.length, "no duplicate env entries");
});

Deno.test("every HERO_ORCHESTRATOR_* variable the engine and server read is in service.toml", async () => {
  const documented = new Set(readServiceToml(SERVICE_TOML).env.map((e) => e.name));
  const read = new Set<string>();
  for (
    const file of [
      "core/config/engine.ts",
      "core/config/home_mcp.ts",
      "core/config/paths.ts",
      "server/daemon.ts",
      "server/main.ts",
    ]
  ) {
    const text = await Deno.readTextFile(`${REPO_ROOT}${file}`);
    for (
      const m of text.matchAll(/"(HERO_ORCHESTRATOR_[A-Z_]+)"|env\.(HERO_ORCHESTRATOR_[A-Z_]+)/g)
    ) {
      read.add(m[1] ?? m[2]!);
    }
  }
  const missing = [...read].filter((name) => !documented.has(name));
  assert.deepEqual(missing, []);
});

Deno.test("buildManifest() resolves sockets and paths from the environment", () => {
  const m = buildManifest({ PATH_SOCKET: "/s", PATH_VAR: "/v" });
  assert.equal(m.binary, "hero_orchestrator_server");
  assert.equal(m.kind, "server");
  assert.deepEqual(m.sockets, [
    { name: "rpc", path: "/s/hero_orchestrator/rpc.sock", protocol: "openrpc" },
  ]);
  assert.equal(m.paths.db, "/v/hero_orchestrator/db.sqlite");
  assert.equal(m.openrpc, "rpc.sock:/openrpc.json");
  assert.equal(m.health, "rpc.sock:/health");
  // The TOML rendering carries the same data.
  assert.deepEqual(parseToml(renderManifest(m, "toml")), JSON.parse(renderManifest(m, "json")));
});

async function runInfo(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN_TS, ...args],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("--info and --info --json print the manifest and create nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_info_" });
  try {
    const env = {
      HOME: `${dir}/home-not-created`,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      DENO_DIR,
      PATH_VAR: `${dir}/var`,
      PATH_SOCKET: `${dir}/sockets`,
    };
    const json = await runInfo(["--info", "--json"], env);
    assert.equal(json.code, 0, json.stderr);
    const manifest = JSON.parse(json.stdout);
    assert.equal(manifest.sockets[0].path, `${dir}/sockets/hero_orchestrator/rpc.sock`);
    assert.equal(manifest.paths.db, `${dir}/var/hero_orchestrator/db.sqlite`);
    assert.equal(manifest.version, "0.1.0");

    const toml = await runInfo(["--info"], env);
    assert.equal(toml.code, 0, toml.stderr);
    assert.deepEqual(parseToml(toml.stdout), manifest);
    // The TOML also matches service.toml's own description of the binary and its variables.
    const svc = readServiceToml(SERVICE_TOML);
    assert.deepEqual(manifest.env, svc.env);

    const entries = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(entries, [], "no directory, socket or database was created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unknown flags exit 2 with usage", async () => {
  const r = await runInfo(["--nope"], { PATH: Deno.env.get("PATH") ?? "", DENO_DIR });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Usage: hero_orchestrator_server/);
});
