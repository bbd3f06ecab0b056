import assert from "node:assert/strict";
import { pipeChunks } from "./driver.ts";

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
