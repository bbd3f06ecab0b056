import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { type CwdPolicy, validateCwd } from "./cwd.ts";

Deno.test("validateCwd() returns the canonical path and refuses unusable directories", () => {
  const root = Deno.realPathSync(Deno.makeTempDirSync());
  const state = `${root}/state`;
  const work = `${root}/work`;
  Deno.mkdirSync(`${state}/db`, { recursive: true });
  Deno.mkdirSync(work);
  Deno.writeTextFileSync(`${root}/file`, "x");
  Deno.symlinkSync(state, `${work}/link_to_state`);
  Deno.symlinkSync(work, `${root}/link_to_work`);
  const policy: CwdPolicy = { protectedDirs: [state], allowedRoots: null };
  assertEquals(validateCwd(`${root}/link_to_work`, policy), work);
  assertEquals(validateCwd(`${work}/../work`, policy), work);
  const refuse = (cwd: unknown, p = policy) =>
    throws(() => validateCwd(cwd, p), (e: Error & { code?: string }) => e.code === "invalid_cwd");
  refuse("relative/path");
  refuse("");
  refuse(42);
  refuse(`${root}/missing`);
  refuse(`${root}/file`);
  refuse(`${work}/a\0b`);
  refuse(state);
  refuse(`${state}/db`);
  refuse(`${work}/link_to_state`);
  refuse(`${work}/../state/db`);
  refuse("/" + "a".repeat(5000));
  // Allow-list enforced on the canonical path: a symlink inside the root pointing out is refused.
  const outside = Deno.realPathSync(Deno.makeTempDirSync());
  Deno.symlinkSync(outside, `${work}/escape`);
  const rooted = { protectedDirs: [state], allowedRoots: [work] };
  assertEquals(validateCwd(work, rooted), work);
  refuse(`${work}/escape`, rooted);
  refuse("/", rooted);
});
