/**
 * The shipped deployment files agree with the binaries: each service.toml parses and names the
 * binary `--info --json` reports; the example systemd units use KillMode=mixed, a non-root user
 * and umask 077, start the binary whose manifest they belong to, and set only variables that
 * binary reads, with paths that resolve to what `--info --json` prints.
 */
import assert from "node:assert/strict";
import { parseToml, type TomlTable } from "@hero/service/toml";
import { BINARIES, type BinaryName, REPO_ROOT, runArgs } from "@hero/tools/permissions";

/** Parses a systemd unit: `{ section: { key: [values…] } }` (keys may repeat). */
export function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const unit: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> | null = null;
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[([A-Za-z]+)\]$/.exec(line);
    if (head) {
      section = unit[head[1]!] ??= {};
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !section) throw new SyntaxError(`Cannot parse unit line ${i + 1}: ${line}`);
    (section[kv[1]!] ??= []).push(kv[2]!);
  }
  return unit;
}

async function info(binary: BinaryName, env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...runArgs(binary, env), "--info", "--json"],
    env: { ...env, DENO_DIR: Deno.env.get("DENO_DIR") || `${Deno.env.get("HOME")}/.cache/deno` },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const SERVICE_TOML: Record<BinaryName, string> = {
  server: "server/service.toml",
  admin: "admin/service.toml",
  cli: "cli/service.toml",
};

for (const binary of Object.keys(BINARIES) as BinaryName[]) {
  Deno.test(`${SERVICE_TOML[binary]} parses and names the binary --info --json reports`, async () => {
    const toml = parseToml(await Deno.readTextFile(`${REPO_ROOT}/${SERVICE_TOML[binary]}`));
    const bins = toml.binaries as TomlTable[];
    const manifest = await info(binary, { HOME: "/home/op", PATH: "/usr/bin:/bin" });
    assert.ok(bins.some((b) => b.name === manifest.binary), `${manifest.binary} in service.toml`);
    assert.equal(manifest.binary, BINARIES[binary].name);
    const names = (toml.env as TomlTable[]).map((e) => e.name);
    assert.deepEqual(manifest.env.map((e: { name: string }) => e.name), names);
  });
}

for (const binary of ["server", "admin"] as const) {
  const file = `docs/${BINARIES[binary].name}.service`;
  Deno.test(`${file}: KillMode=mixed, non-root user, umask 077, its binary, its variables`, async () => {
    const unit = parseUnit(await Deno.readTextFile(`${REPO_ROOT}/${file}`));
    const service = unit.Service!;
    assert.deepEqual(service.KillMode, ["mixed"]);
    assert.deepEqual(service.UMask, ["0077"]);
    assert.ok(service.User?.[0] && service.User[0] !== "root" && service.User[0] !== "0");
    assert.ok(unit.Install?.WantedBy?.length);
    const env: Record<string, string> = {};
    for (const e of service.Environment ?? []) {
      const eq = e.indexOf("=");
      env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    const manifest = await info(binary, env);
    assert.equal(service.ExecStart?.[0]?.split(/\s+/)[0]?.split("/").at(-1), manifest.binary);
    const known = new Set([...manifest.env.map((e: { name: string }) => e.name), "PATH"]);
    for (const name of Object.keys(env)) {
      assert.ok(known.has(name), `${name} is read by ${manifest.binary}`);
    }
    const socketDir = `${env.PATH_SOCKET}/hero_orchestrator`;
    assert.ok(
      manifest.sockets.every((s: { path: string }) => s.path.startsWith(`${socketDir}/`)),
      JSON.stringify(manifest.sockets),
    );
    if (binary === "server") {
      assert.equal(manifest.paths.db, `${env.PATH_VAR}/hero_orchestrator/db.sqlite`);
      assert.ok(!env.PATH_VAR!.startsWith("/root"), "state outside root's home");
    }
  });
}
