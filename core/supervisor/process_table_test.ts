import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  hasMarker,
  listProcesses,
  ownedProcesses,
  parsePsOutput,
  ProcessSnapshot,
} from "./process_table.ts";

const TABLE = parsePsOutput([
  "    1     0     1     1 Ss   /sbin/init",
  "  100     1   100   100 Ss   claude --model x HOME=/h HERO_ORCHESTRATOR_AGENT=a.m1 PATH=/bin",
  "  101   100   100   100 S    sh -c sleep HERO_ORCHESTRATOR_AGENT=a.m1",
  "  102   101   102   102 Ss   bash -c tool HERO_ORCHESTRATOR_AGENT=a.m1",
  "  103   102   102   102 S    sleep 1000",
  "  104     1   104   104 Ss   sleep 600 HERO_ORCHESTRATOR_AGENT=a.m1",
  "  105     1   105   105 Z    [defunct] HERO_ORCHESTRATOR_AGENT=a.m1",
  "  200     1   200   200 Ss   claude foreign HERO_ORCHESTRATOR_AGENT=a.m10",
  "  201     1   201   201 Ss   claude foreign HERO_ORCHESTRATOR_AGENT=b.m1",
  "  300     1   300   300 Ss   deno daemon",
].join("\n"));

Deno.test("parsePsOutput() reads pid, ppid, pgid, sid, stat and args", () => {
  assertEquals(TABLE.length, 10);
  assertEquals(TABLE[1], {
    pid: 100,
    ppid: 1,
    pgid: 100,
    sid: 100,
    stat: "Ss",
    argsAndEnv: "claude --model x HOME=/h HERO_ORCHESTRATOR_AGENT=a.m1 PATH=/bin",
  });
});

Deno.test("hasMarker() matches the whole assignment only", () => {
  const p = TABLE[1]!;
  assertEquals(hasMarker(p, "HERO_ORCHESTRATOR_AGENT", "a.m1"), true);
  assertEquals(hasMarker(p, "HERO_ORCHESTRATOR_AGENT", "a.m"), false);
  assertEquals(hasMarker(TABLE[7]!, "HERO_ORCHESTRATOR_AGENT", "a.m1"), false);
});

Deno.test("ownedProcesses() finds marked processes and descendants, never foreign or zombie ones", () => {
  const owned = ownedProcesses(TABLE, {
    marker: "a.m1",
    markerVar: "HERO_ORCHESTRATOR_AGENT",
    rootPid: 100,
    excludePid: 300,
  }).map((p) => p.pid).sort((a, b) => a - b);
  // 103 has no marker (cleared env) but descends from 102; 105 is a zombie; 200/201 are foreign.
  assertEquals(owned, [100, 101, 102, 103, 104]);
});

Deno.test("listProcesses() sees a child with its environment marker", async () => {
  const marker = `t.${crypto.randomUUID()}`;
  const child = new Deno.Command("sleep", {
    args: ["30"],
    env: { HERO_ORCHESTRATOR_AGENT: marker },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const owned = ownedProcesses(await listProcesses(), {
      marker,
      markerVar: "HERO_ORCHESTRATOR_AGENT",
    });
    assertEquals(owned.map((p) => p.pid), [child.pid]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("ProcessSnapshot.owned() answers exactly what ownedProcesses() answers, for many queries", () => {
  const table = parsePsOutput([
    ...TABLE.map((p) => `${p.pid} ${p.ppid} ${p.pgid} ${p.sid} ${p.stat} ${p.argsAndEnv}`),
    // The marker text twice, in args and env; a look-alike value; an assignment at the very end.
    "  400     1   400   400 S    echo HERO_ORCHESTRATOR_AGENT=c.m1 HERO_ORCHESTRATOR_AGENT=c.m1",
    "  401     1   401   401 S    x HERO_ORCHESTRATOR_AGENT=c.m1x",
    "  402   400   400   400 S    child-without-env",
    "  403     1   403   403 S    HERO_ORCHESTRATOR_AGENT=c.m1 (no leading space: not an assignment)",
  ].join("\n"));
  const snapshot = new ProcessSnapshot(table);
  const pids = (list: { pid: number }[]) => list.map((p) => p.pid).sort((a, b) => a - b);
  for (const marker of ["a.m1", "a.m10", "b.m1", "c.m1", "c.m1x", "c.m", "", "nope"]) {
    for (const rootPid of [undefined, 100, 400, 999]) {
      for (const excludePid of [undefined, 300, 101]) {
        const query = { marker, markerVar: "HERO_ORCHESTRATOR_AGENT", rootPid, excludePid };
        assertEquals(
          pids(snapshot.owned(query)),
          pids(naiveOwned(table, query)),
          JSON.stringify(query),
        );
      }
    }
  }
  assertEquals(pids(snapshot.owned({ marker: "c.m1", markerVar: "HERO_ORCHESTRATOR_AGENT" })), [
    400,
    402,
  ]);
});

/** The reference: a linear scan with hasMarker() (what ownedProcesses() did before the index). */
function naiveOwned(
  table: ReturnType<typeof parsePsOutput>,
  query: { marker: string; markerVar: string; rootPid?: number; excludePid?: number },
) {
  const owned = new Map<number, (typeof table)[number]>();
  for (const p of table) {
    if (p.pid !== query.excludePid && hasMarker(p, query.markerVar, query.marker)) {
      owned.set(p.pid, p);
    }
  }
  const root = query.rootPid ? table.find((p) => p.pid === query.rootPid) : undefined;
  if (root && hasMarker(root, query.markerVar, query.marker)) {
    for (const p of table) {
      if (p.pgid === root.pid && p.pid !== query.excludePid) owned.set(p.pid, p);
    }
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table) {
      if (p.pid === query.excludePid || owned.has(p.pid) || !owned.has(p.ppid)) continue;
      owned.set(p.pid, p);
      grew = true;
    }
  }
  return [...owned.values()].filter((p) => !p.stat.startsWith("Z"));
}
