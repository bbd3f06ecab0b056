import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
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

async function validateUnderGrant(
  cwd: string,
  roots: string[] | null,
  grant: string[],
  home: string,
): Promise<{ ok?: string; code?: string; message?: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${grant.join(",")}`,
      "--allow-env=HOME",
      new URL("./testdata/validate_cwd.ts", import.meta.url).pathname,
      cwd,
      roots ? roots.join(",") : "-",
    ],
    env: { HOME: home },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`validate_cwd.ts failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

Deno.test("validateCwd() under the server's read grant: a folder outside the roots says so and how to widen them", async () => {
  const home = Deno.realPathSync(Deno.makeTempDirSync());
  const elsewhere = Deno.realPathSync(Deno.makeTempDirSync());
  Deno.mkdirSync(`${home}/project`);
  Deno.mkdirSync(`${home}/.ssh`);
  try {
    // Unset HERO_ORCHESTRATOR_ALLOWED_ROOTS: the server may read $HOME only.
    const inHome = await validateUnderGrant(`${home}/project`, null, [home], home);
    assertEquals(inHome, { ok: `${home}/project` });
    const out = await validateUnderGrant(elsewhere, null, [home], home);
    assertEquals(out.code, "invalid_cwd");
    ok(!/does not exist/.test(out.message!), out.message);
    ok(out.message!.includes(`outside the roots the server may read: ${home} ($HOME`), out.message);
    ok(
      out.message!.includes(`HERO_ORCHESTRATOR_ALLOWED_ROOTS=${home},${elsewhere}`),
      out.message,
    );
    ok(out.message!.includes("restart the server"), out.message);
    // Configured roots are named as such.
    const rooted = await validateUnderGrant(
      elsewhere,
      [`${home}/project`],
      [`${home}/project`],
      home,
    );
    ok(
      rooted.message!.includes(`${home}/project (HERO_ORCHESTRATOR_ALLOWED_ROOTS)`),
      rooted.message,
    );
    // A missing folder inside the roots is still "does not exist".
    const missing = await validateUnderGrant(`${home}/nope`, null, [home], home);
    ok(missing.message!.includes(`"${home}/nope" does not exist`), missing.message);
    // A denied secret inside $HOME is not "outside the roots".
    const secretGrant = [home];
    const out2 = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-read=${secretGrant.join(",")}`,
        `--deny-read=${home}/.ssh`,
        "--allow-env=HOME",
        new URL("./testdata/validate_cwd.ts", import.meta.url).pathname,
        `${home}/.ssh`,
        "-",
      ],
      env: { HOME: home },
      stdout: "piped",
    }).output();
    const secret = JSON.parse(new TextDecoder().decode(out2.stdout));
    ok(secret.message.includes("may never read"), secret.message);
  } finally {
    Deno.removeSync(home, { recursive: true });
    Deno.removeSync(elsewhere, { recursive: true });
  }
});
