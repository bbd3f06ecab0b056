import assert from "node:assert/strict";
import type { ClaudeProcess } from "../claude/mod.ts";
import { outOfDescriptors, spawnWhenDescriptorsFree } from "./spawn_wait.ts";

const EMFILE = () =>
  new Error("Cannot start claude: Failed to spawn 'bwrap': Too many open files (os error 24)", {
    cause: new Error("Too many open files (os error 24)"),
  });
const fakeProc = {} as ClaudeProcess;

Deno.test("spawnWhenDescriptorsFree() waits out EMFILE and spawns once descriptors are back", async () => {
  const logs: string[] = [];
  let calls = 0;
  const proc = await spawnWhenDescriptorsFree(() => {
    if (++calls < 4) return Promise.reject(EMFILE());
    return Promise.resolve(fakeProc);
  }, { stopped: () => false, log: (_l, m) => logs.push(m), agentId: "a" });
  assert.equal(proc, fakeProc);
  assert.equal(calls, 4);
  assert.equal(logs.length, 1, "said once, not per attempt");
});

Deno.test("spawnWhenDescriptorsFree() throws other errors at once, and EMFILE once stopped or past its limit", async () => {
  let calls = 0;
  const other = new Error('Cannot start claude: the claude CLI "x" was not found');
  await assert.rejects(
    spawnWhenDescriptorsFree(() => (calls++, Promise.reject(other)), {
      stopped: () => false,
      log: () => {},
      agentId: "a",
    }),
    (err) => err === other,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    spawnWhenDescriptorsFree(() => (calls++, Promise.reject(EMFILE())), {
      stopped: () => calls >= 2,
      log: () => {},
      agentId: "a",
    }),
    /Too many open files/,
  );
  assert.equal(calls, 2);
  calls = 0;
  await assert.rejects(
    spawnWhenDescriptorsFree(() => (calls++, Promise.reject(EMFILE())), {
      stopped: () => false,
      log: () => {},
      agentId: "a",
      limitMs: 100,
    }),
    /Too many open files/,
  );
  assert.ok(calls >= 2 && calls <= 4, `${calls} attempts within 100 ms of waiting`);
});

Deno.test("outOfDescriptors() knows EMFILE and ENFILE, through causes", () => {
  assert.ok(outOfDescriptors(EMFILE()));
  assert.ok(outOfDescriptors(new Error("x", { cause: new Error("(os error 23)") })));
  assert.ok(!outOfDescriptors(new Error("No such file or directory (os error 2)")));
  assert.ok(!outOfDescriptors("Too many open files"));
});
