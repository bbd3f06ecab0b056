/**
 * Rooms stay small enough to read: the supervisor façade under 400 lines, and no module in core/
 * over 500 (test doubles in core/testing and tests excepted). A file that grows past this is a
 * sign that a responsibility wants its own room.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function lines(path: string): Promise<number> {
  return (await Deno.readTextFile(`${ROOT}${path}`)).split("\n").length - 1;
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (path !== "core/testing") yield* sources(path);
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      yield path;
    }
  }
}

Deno.test("rooms: the supervisor façade is under 400 lines, no core module over 500", async () => {
  assert.ok(
    await lines("core/supervisor/supervisor.ts") < 400,
    `core/supervisor/supervisor.ts has ${await lines("core/supervisor/supervisor.ts")} lines`,
  );
  const big: string[] = [];
  for await (const path of sources("core")) {
    const n = await lines(path);
    if (n > 500) big.push(`${path}: ${n}`);
  }
  assert.deepEqual(big, []);
});
