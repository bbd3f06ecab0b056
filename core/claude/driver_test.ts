import assert from "node:assert/strict";
import { pipeChunks, spawnClaude } from "./driver.ts";

/** A real child writing `script`'s output to its stdout pipe. */
function child(script: string): Deno.ChildProcess {
  return new Deno.Command("sh", { args: ["-c", script], stdout: "piped", stderr: "null" }).spawn();
}

Deno.test("pipeChunks: a child's pipe arrives whole, each chunk owning exactly its bytes", async () => {
  // A quiet start, a 300 kB burst (reads fill the buffer and it grows), quiet again.
  const proc = child(
    "printf 'a\\n'; sleep 0.1; head -c 300000 /dev/zero; sleep 0.1; printf 'z\\n'",
  );
  let touched = 0;
  const chunks: Uint8Array[] = [];
  for await (const chunk of pipeChunks(proc.stdout, () => touched++)) chunks.push(chunk);
  await proc.status;
  const total = chunks.reduce((n, c) => n + c.length, 0);
  assert.equal(total, 2 + 300_000 + 2);
  assert.deepEqual([...chunks[0]!], [0x61, 0x0a]);
  assert.deepEqual([...chunks.at(-1)!.subarray(-2)], [0x7a, 0x0a]);
  assert.equal(touched, chunks.length, "every read is reported");
  // No chunk pins a larger read buffer (a line cut from it would keep the whole buffer alive).
  for (const c of chunks) assert.equal(c.buffer.byteLength, c.length);
  assert.ok(chunks.length < 300_000 / 4096, `reads grew with the burst: ${chunks.length} reads`);
  assert.ok(Math.max(...chunks.map((c) => c.length)) > 4096, "a read larger than the idle size");
});

Deno.test("pipeChunks: cancelling the chunks cancels the pipe", async () => {
  const proc = child("while :; do printf 'x\\n'; sleep 0.01; done");
  const reader = pipeChunks(proc.stdout).getReader();
  assert.equal((await reader.read()).done, false);
  await reader.cancel();
  // The pipe is closed: the writer gets SIGPIPE (or EPIPE) on its next write and ends.
  const status = await proc.status;
  assert.equal(status.success, false);
});

/** pgid and session id of `pid`, and its command name. */
function sessionOf(pid: number): { pgid: number; sid: number; comm: string } {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  return { pgid: Number(fields[2]), sid: Number(fields[3]), comm };
}

async function leaderOf(env: Record<string, string>) {
  const proc = spawnClaude({
    bin: "/bin/sleep",
    args: ["30"],
    cwd: Deno.cwd(),
    env,
    maxLineBytes: 1024,
    stderrTailBytes: 1024,
  });
  try {
    // setsid execs in place: wait until the pid runs the program itself.
    for (let i = 0; i < 200 && sessionOf(proc.pid).comm !== "sleep"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return { pid: proc.pid, ...sessionOf(proc.pid) };
  } finally {
    proc.signal("SIGKILL");
    await proc.status;
  }
}

Deno.test("spawnClaude(): the child leads its own session and group, with its own pid", async () => {
  const got = await leaderOf({ PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" });
  assert.deepEqual(got, { pid: got.pid, pgid: got.pid, sid: got.pid, comm: "sleep" });
  assert.notEqual(got.sid, sessionOf(Deno.pid).sid);
});

// Last in this file: once setsid is found missing, the module keeps to the fallback.
Deno.test("spawnClaude(): without setsid on PATH the child still leads its own session", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const got = await leaderOf({ PATH: empty });
    assert.deepEqual(got, { pid: got.pid, pgid: got.pid, sid: got.pid, comm: "sleep" });
  } finally {
    await Deno.remove(empty);
  }
});
