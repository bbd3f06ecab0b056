/**
 * The open-file limit (RLIMIT_NOFILE) of this process. Deno has no getrlimit/setrlimit and the
 * permission sets deny FFI and `/proc/self`, so both go through util-linux `prlimit --pid`
 * (allowed for a process of the same uid; raising the soft limit up to the hard one needs no
 * privilege). `deno` itself already raises the soft limit to the hard one at start; this keeps
 * that true for any runtime and tells the daemon the figure it budgets file descriptors with.
 * @module
 */

/** The open-file limits of this process. */
export interface NofileLimit {
  soft: number;
  hard: number;
  /** The soft limit was below the hard one and was raised here. */
  raised: boolean;
}

async function prlimit(args: string[]): Promise<string> {
  const out = await new Deno.Command("prlimit", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(10_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`prlimit ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

function parseLimit(word: string | undefined): number {
  if (word === "unlimited" || word === "RLIM_INFINITY") return Number.MAX_SAFE_INTEGER;
  const n = Number(word);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`unexpected prlimit output "${word}"`);
  return n;
}

async function readLimit(pid: number): Promise<{ soft: number; hard: number }> {
  const text = await prlimit([
    `--pid=${pid}`,
    "--nofile",
    "--raw",
    "--noheadings",
    "--output=SOFT,HARD",
  ]);
  const [soft, hard] = text.trim().split(/\s+/);
  return { soft: parseLimit(soft), hard: parseLimit(hard) };
}

/**
 * Raises this process's soft RLIMIT_NOFILE to its hard limit and returns both. Throws
 * `Cannot read the open-file limit: …` when prlimit is missing or not allowed.
 */
export async function raiseNofileLimit(pid: number = Deno.pid): Promise<NofileLimit> {
  try {
    const before = await readLimit(pid);
    if (before.soft >= before.hard) return { ...before, raised: false };
    const hard = before.hard === Number.MAX_SAFE_INTEGER ? "unlimited" : String(before.hard);
    await prlimit([`--pid=${pid}`, `--nofile=${hard}:${hard}`]);
    const after = await readLimit(pid);
    return { ...after, raised: after.soft > before.soft };
  } catch (err) {
    throw new Error(
      `Cannot read the open-file limit: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
