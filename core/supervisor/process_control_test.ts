import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  coalesceSnapshots,
  createProcessControl,
  type KillSignal,
  type ProcessControl,
  terminateTree,
  terminateTrees,
} from "./process_control.ts";
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

/** A process table in memory: `kill` applies to it (TERM kills unless ignored, KILL always). */
function simulated(
  procs: Array<{ pid: number; ppid: number; pgid: number; env: string; term?: "ignore" }>,
) {
  const alive = new Set(procs.map((p) => p.pid));
  const stats = { lists: 0, kills: [] as Array<{ signal: KillSignal; ids: number }> };
  const control: ProcessControl = {
    list() {
      stats.lists++;
      return Promise.resolve(
        procs.filter((p) => alive.has(p.pid)).map((p) => ({
          pid: p.pid,
          ppid: p.ppid,
          pgid: p.pgid,
          sid: p.pgid,
          stat: "S",
          argsAndEnv: `prog ${p.env}`,
        })),
      );
    },
    signal(signal, targets) {
      stats.kills.push({
        signal,
        ids: (targets.pids?.length ?? 0) + (targets.groups?.length ?? 0),
      });
      for (const p of procs) {
        const hit = targets.pids?.includes(p.pid) || targets.groups?.includes(p.pgid);
        if (hit && (signal === "KILL" || (signal === "TERM" && p.term !== "ignore"))) {
          alive.delete(p.pid);
        }
      }
      return Promise.resolve();
    },
  };
  return { control, stats, alive };
}

Deno.test("terminateTrees() stops 200 trees with one snapshot per round and one kill per signal", async () => {
  // Tree i: root 1000+i (ignores TERM when i is odd) with a child 2000+i carrying the marker,
  // plus a foreign look-alike 3000+i (marker t.<i>x: the marker is only its prefix).
  const procs = [];
  for (let i = 0; i < 200; i++) {
    const env = `${VAR}=t.${i}`;
    procs.push(
      { pid: 1000 + i, ppid: 1, pgid: 1000 + i, env, term: i % 2 ? "ignore" as const : undefined },
      { pid: 2000 + i, ppid: 1000 + i, pgid: 1000 + i, env },
      { pid: 3000 + i, ppid: 1, pgid: 3000 + i, env: `${VAR}=t.${i}x` },
    );
  }
  const sim = simulated(procs);
  const settledAt: number[] = [];
  const started = Date.now();
  const reports = await terminateTrees({
    control: sim.control,
    graceMs: 1_000,
    pollMs: 20,
    targets: Array.from({ length: 200 }, (_, i) => ({
      query: { marker: `t.${i}`, markerVar: VAR, rootPid: 1000 + i },
      onSettled: () => (settledAt[i] = Date.now() - started),
    })),
  });
  for (let i = 0; i < 200; i++) {
    assertEquals(reports[i]!.survivors, 0);
    assert(!sim.alive.has(1000 + i) && !sim.alive.has(2000 + i), `tree ${i} is gone`);
    // A TERM-responsive tree is reported as soon as it is empty, not at the common deadline.
    if (i % 2 === 0) assert(settledAt[i]! < 1_000, `tree ${i} settled at ${settledAt[i]} ms`);
    else assert(reports[i]!.sigkilled === 2 && settledAt[i]! >= 1_000, `tree ${i}`);
  }
  for (let i = 0; i < 200; i++) assert(sim.alive.has(3000 + i), "foreign look-alikes untouched");
  // Rounds, not trees: about grace / poll snapshots, and a handful of kill runs.
  assert(sim.stats.lists <= 1_000 / 20 + 6, `${sim.stats.lists} snapshots`);
  const runs = sim.stats.kills.map((k) => k.signal).join(",");
  assertEquals(runs, "TERM,CONT,TERM,CONT,KILL", runs);
});

Deno.test("terminateTrees() waits for a root it cannot see yet (between fork and exec) and signals its handle", async () => {
  const sim = simulated([]);
  let exited = false;
  const signals: Deno.Signal[] = [];
  const [report] = await terminateTrees({
    control: sim.control,
    graceMs: 200,
    pollMs: 10,
    targets: [{
      query: { marker: "t.pre-exec", markerVar: VAR, rootPid: 4242 },
      rootExited: () => exited,
      signalRoot: (signal) => {
        signals.push(signal);
        setTimeout(() => (exited = true), 50);
        return true;
      },
    }],
  });
  assertEquals(signals, ["SIGTERM"]);
  assertEquals(report!.survivors, 0);
  assert(report!.elapsedMs >= 40, `settled only once the root exited (${report!.elapsedMs} ms)`);
});

Deno.test("coalesceSnapshots(): one snapshot at a time, shared, never older than the call", async () => {
  const started: Array<PromiseWithResolvers<number>> = [];
  const take = coalesceSnapshots(() => {
    const snapshot = Promise.withResolvers<number>();
    started.push(snapshot);
    return snapshot.promise;
  });
  const a = take();
  assertEquals(started.length, 1);
  // Asked while snapshot 1 runs: it may predate them, so they share snapshot 2.
  const b = take();
  const c = take();
  assertEquals(started.length, 1, "a second ps while one runs");
  started[0]!.resolve(1);
  assertEquals(await a, 1);
  await Promise.resolve();
  assertEquals(started.length, 2);
  const d = take(); // asked after snapshot 2 began: waits for snapshot 3
  started[1]!.resolve(2);
  assertEquals([await b, await c], [2, 2]);
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(started.length, 3);
  started[2]!.reject(new Error("ps failed"));
  await d.then(() => assert(false, "a failed snapshot resolved"), (err) => {
    assertEquals(String(err), "Error: ps failed");
  });
  // After a failure the next caller starts a fresh snapshot at once.
  const e = take();
  assertEquals(started.length, 4);
  started[3]!.resolve(4);
  assertEquals(await e, 4);
});

Deno.test("terminateTree() on a bwrap tree: SIGTERM reaches the command inside, SIGKILL ends the whole namespace", async () => {
  const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "hero_pc_bwrap_" });
  try {
    const run = (marker: string, script: string) =>
      new Deno.Command("bwrap", {
        args: [
          ...["--die-with-parent", "--unshare-pid", "--ro-bind", "/", "/", "--dev", "/dev"],
          ...["--proc", "/proc", "--bind", dir, dir, "--chdir", dir, "--", "sh", "-c", script],
        ],
        env: { [VAR]: marker, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
        clearEnv: true,
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
    const stop = (child: Deno.ChildProcess, marker: string, sandboxed: boolean) =>
      terminateTree({
        control: createProcessControl(),
        query: { marker, markerVar: VAR, rootPid: child.pid },
        graceMs: 1_500,
        sandboxed,
        signalRoot: (s) => {
          child.kill(s);
          return true;
        },
      });
    // A polite command: it answers SIGTERM (as claude does) and leaves an escaped grandchild.
    const polite = `env -i setsid sh -c "sleep 1234 &"; trap 'echo term > term_$$; exit 0' TERM; ` +
      "echo up > up; while :; do sleep 0.1; done";
    const marker = `t.${crypto.randomUUID()}`;
    const child = run(marker, polite);
    await waitForFile(`${dir}/up`);
    const report = await stop(child, marker, true);
    await child.status;
    assertEquals(report.survivors, 0);
    assertEquals(report.sigkilled, 0, "the command ended on its SIGTERM, within the grace");
    assert([...Deno.readDirSync(dir)].some((e) => e.name.startsWith("term_")), "no SIGTERM inside");
    // Nothing of the namespace is left: not even the grandchild that cleared its environment.
    assertEquals(await ownedCount(marker), 0);

    // A command that ignores SIGTERM: at the deadline the SIGKILL to bwrap takes all of it.
    const stubborn =
      `trap '' TERM; env -i setsid sh -c "trap '' TERM; sleep 1234 &"; echo up > up2; ` +
      "while :; do sleep 0.1; done";
    const marker2 = `t.${crypto.randomUUID()}`;
    const child2 = run(marker2, stubborn);
    await waitForFile(`${dir}/up2`);
    const report2 = await stop(child2, marker2, true);
    await child2.status;
    assertEquals(report2.survivors, 0);
    assert(report2.sigkilled > 0);
    assertEquals(await ownedCount(marker2), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function waitForFile(path: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`Timed out waiting for ${path}`);
}
