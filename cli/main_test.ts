/**
 * The dispatcher in-process: exit codes, help on every command, `--info`, colour decisions.
 */
import assert from "node:assert/strict";
import { parseToml } from "@hero/service/toml";
import { createContext, memoryOutput } from "./context.ts";
import { COMMANDS, main } from "./main.ts";
import { buildManifest, readServiceToml } from "./manifest.ts";

function harness(env: Record<string, string> = {}, tty = false) {
  const stdout = memoryOutput(tty);
  const stderr = memoryOutput(false);
  const ctx = createContext({
    env: { HOME: "/home/op", PATH_SOCKET: "/nonexistent/sockets", ...env },
    stdout,
    stderr,
  });
  return { ctx, stdout, stderr };
}

Deno.test("main: --help on every command exits 0 and prints its usage", async () => {
  for (const command of COMMANDS) {
    const h = harness();
    assert.equal(await main([command.name, "--help"], h.ctx), 0, command.name);
    assert.match(h.stdout.text(), new RegExp(`^Usage: hero_orchestrator ${command.name}`));
  }
  const h = harness();
  assert.equal(await main(["--help"], h.ctx), 0);
  for (const command of COMMANDS) {
    assert.match(h.stdout.text(), new RegExp(`\\n  ${command.name} `));
  }
});

Deno.test("main: usage errors exit 2 with a one-line hint", async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /missing command/],
    [["bogus"], /unknown command "bogus"/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["agents", "--status", "sleeping"], /--status "sleeping" is not one of/],
    [["agents", "--limit", "0"], /--limit must be a positive integer/],
    [["show"], /missing the agent id/],
    [["show", "a", "b"], /unexpected argument "b"/],
    [["logs", "x", "--raw", "--json"], /exclude each other/],
    [["run", "--effort", "extreme", "hi"], /--effort "extreme"/],
    [["doctor", "--fast"], /Unknown option '--fast'/],
    [["--json"], /--json needs --info/],
  ];
  for (const [args, pattern] of cases) {
    const h = harness();
    assert.equal(await main(args, h.ctx), 2, args.join(" "));
    const lines = h.stderr.text().trimEnd().split("\n");
    assert.equal(lines.length, 2, h.stderr.text());
    assert.match(lines[0]!, pattern);
    assert.match(lines[1]!, /^hint: run `hero_orchestrator( \w+)? --help` for usage$/);
  }
});

Deno.test("main: an unreachable server is exit 1 naming the socket; --verbose adds the cause", async () => {
  const h = harness();
  assert.equal(await main(["agents"], h.ctx), 1);
  assert.match(
    h.stderr.text(),
    /^error: ServerUnreachableError: Cannot reach hero_orchestrator_server at \/nonexistent\/sockets\/hero_orchestrator\/rpc\.sock: is it running\? \(check with `npx -y deno@2\.9\.6 task cli doctor`\)/,
  );
  const v = harness();
  assert.equal(await main(["--verbose", "show", "x"], v.ctx), 1);
  assert.match(v.stderr.text(), /\n {2}caused by: RpcError: Cannot reach the service/);
});

Deno.test("main: --info prints TOML, --info --json the same data; both match service.toml", async () => {
  const env = { HOME: "/home/op", PATH_VAR: "/srv/var", PATH_SOCKET: "/run/hero" };
  const toml = harness(env);
  assert.equal(await main(["--info"], toml.ctx), 0);
  const json = harness(env);
  assert.equal(await main(["--info", "--json"], json.ctx), 0);
  const fromJson = JSON.parse(json.stdout.text());
  const fromToml = parseToml(toml.stdout.text());
  assert.deepEqual(fromToml, JSON.parse(JSON.stringify(fromJson)));
  const svc = readServiceToml();
  assert.equal(fromJson.binary, "hero_orchestrator");
  assert.equal(fromJson.binary, svc.binary.name);
  assert.equal(fromJson.kind, "cli");
  assert.equal(fromJson.supervised, false);
  assert.deepEqual(fromJson.sockets, []);
  assert.equal(fromJson.paths.db, "/srv/var/hero_orchestrator/db.sqlite");
  assert.deepEqual(fromJson.connects.map((s: { path: string }) => s.path), [
    "/run/hero/hero_orchestrator/rpc.sock",
    "/run/hero/hero_orchestrator/admin.sock",
  ]);
  assert.deepEqual(fromJson.env.map((e: { name: string }) => e.name), svc.env.map((e) => e.name));
  assert.deepEqual(buildManifest(env), fromJson);
});

Deno.test("cli/service.toml names every variable the cli permission set lets it read", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const allowed: string[] = denoJson.permissions.cli.env.allow;
  for (const { name } of readServiceToml().env) {
    assert.ok(
      allowed.includes(name) ||
        allowed.some((a) => a.endsWith("*") && name.startsWith(a.slice(0, -1))),
      `${name} is readable under -P=cli`,
    );
  }
});

Deno.test("main: colour on a TTY only, never with NO_COLOR", async () => {
  const tty = harness({}, true);
  await main(["--help"], tty.ctx);
  assert.equal(tty.ctx.color.enabled, true);
  const noColor = harness({ NO_COLOR: "1" }, true);
  assert.equal(noColor.ctx.color.enabled, false);
  const pipe = harness({}, false);
  assert.equal(pipe.ctx.color.enabled, false);
});
