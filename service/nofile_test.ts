import assert from "node:assert/strict";
import { raiseNofileLimit } from "./nofile.ts";

Deno.test("raiseNofileLimit() raises a process's soft open-file limit to its hard limit", async () => {
  // deno raises its own soft limit at start, so the raise is shown on a shell under ulimit -Sn.
  const child = new Deno.Command("sh", {
    args: ["-c", "ulimit -Sn 100; ulimit -Hn 200; exec sleep 30"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // The shell execs sleep with the limits set; wait until they are in place.
    const deadline = Date.now() + 10_000;
    let before;
    for (;;) {
      const out = await new Deno.Command("prlimit", {
        args: [`--pid=${child.pid}`, "--nofile", "--raw", "--noheadings", "--output=SOFT,HARD"],
      }).output();
      before = new TextDecoder().decode(out.stdout).trim();
      if (before === "100 200" || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(before, "100 200");
    assert.deepEqual(await raiseNofileLimit(child.pid), { soft: 200, hard: 200, raised: true });
    assert.deepEqual(await raiseNofileLimit(child.pid), { soft: 200, hard: 200, raised: false });
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("raiseNofileLimit() names the cause when the process does not exist", async () => {
  await assert.rejects(
    () => raiseNofileLimit(2 ** 22 + 7),
    /^Error: Cannot read the open-file limit: /,
  );
});
