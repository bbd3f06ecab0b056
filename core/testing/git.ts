/** Git helpers for tests that need a real work tree (commit shadows, `complete {commit}`). */

/** Runs git in `cwd`; its trimmed stdout, or an error carrying its stderr. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** A git repository at `dir` (created if missing) with `files` in one initial commit on main. */
export async function gitRepo(
  dir: string,
  files: Record<string, string> = { "a.txt": "a\n" },
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "config", "user.email", "test@example.com");
  await git(dir, "config", "user.name", "Test");
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", "init");
}
