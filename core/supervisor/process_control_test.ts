import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createProcessControl, terminateTree } from "./process_control.ts";
import { listProcesses, ownedProcesses } from "./process_table.ts";

const VAR = "HERO_ORCHESTRATOR_AGENT";

function spawnTree(marker: string, script: string): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", script],
    env: { [VAR]: marker, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
}

async function ownedCount(marker: string): Promise<number> {
  return ownedProcesses(await listProcesses(), { marker, markerVar: VAR }).length;
}

Deno.test("terminateTree() kills a tree whose members escaped into their own sessions", async () => {
  const marker = `t.${crypto.randomUUID()}`;
  // A subshell, a grandchild in its own session (like claude's Bash tool) and a plain sleep.
  const child = spawnTree(marker, "setsid sleep 300 & (sleep 300 &) ; sleep 300 & wait");
  await new Promise((r) => setTimeout(r, 200));
  assert(await ownedCount(marker) >= 3);
  const report = await terminateTree({
    control: createProcessControl(),
    query: { marker, markerVar: VAR, rootPid: child.pid },
    graceMs: 2_000,
    signalRoot: (s) => {
      child.kill(s);
      return true;
    },
  });
  await child.status;
  assertEquals(report.survivors, 0);
  assertEquals(await ownedCount(marker), 0);
});

Deno.test("terminateTree() SIGKILLs a SIGTERM-ignoring tree at the grace deadline", async () => {
  const marker = `t.${crypto.randomUUID()}`;
  const child = spawnTree(
    marker,
    "trap '' TERM; sh -c \"trap '' TERM; sleep 300\" & while :; do sleep 1; done",
  );
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const report = await terminateTree({
    control: createProcessControl(),
    query: { marker, markerVar: VAR, rootPid: child.pid },
    graceMs: 1_000,
  });
  const elapsed = Date.now() - started;
  await child.status;
  assertEquals(report.survivors, 0);
  assert(report.sigkilled >= 2, `expected SIGKILLs, got ${report.sigkilled}`);
  assert(elapsed >= 1_000 && elapsed < 2_500, `elapsed ${elapsed} ms`);
  assertEquals(await ownedCount(marker), 0);
});

Deno.test("terminateTree() continues a stopped process so it can die", async () => {
  const marker = `t.${crypto.randomUUID()}`;
  const child = spawnTree(marker, "exec sleep 300");
  await new Promise((r) => setTimeout(r, 100));
  Deno.kill(child.pid, "SIGSTOP");
  const report = await terminateTree({
    control: createProcessControl(),
    query: { marker, markerVar: VAR, rootPid: child.pid },
    graceMs: 3_000,
  });
  const status = await child.status;
  assertEquals(report.sigkilled, 0, "SIGTERM + SIGCONT should have been enough");
  assertEquals(status.signal, "SIGTERM");
});

Deno.test("terminateTree() never touches processes without the marker", async () => {
  const marker = `t.${crypto.randomUUID()}`;
  const foreign = spawnTree(`t.${crypto.randomUUID()}`, "sleep 300");
  const plain = new Deno.Command("sleep", { args: ["300"], stdout: "null", stderr: "null" })
    .spawn();
  try {
    const report = await terminateTree({
      control: createProcessControl(),
      query: { marker, markerVar: VAR },
      graceMs: 200,
      termAll: true,
    });
    assertEquals(report.found, 0);
    const alive = (await listProcesses()).map((p) => p.pid);
    assert(alive.includes(foreign.pid) && alive.includes(plain.pid));
  } finally {
    foreign.kill("SIGKILL");
    plain.kill("SIGKILL");
    await foreign.status;
    await plain.status;
  }
});
