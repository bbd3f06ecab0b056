/** Test helpers for this folder only. */
import { type NewAgent, openStore, type Store } from "./mod.ts";
import { newId } from "../models/mod.ts";

/** A fresh temp dir with `db.sqlite` path; remove with `cleanup()`. */
export async function tempDbPath(): Promise<
  { path: string; dir: string; cleanup(): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "hero_store_" });
  return {
    dir,
    path: `${dir}/state/db.sqlite`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Opens a store on a fresh temp file; `using`-style disposal closes and removes it. */
export async function tempStore(): Promise<Store & AsyncDisposable> {
  const { path, cleanup } = await tempDbPath();
  const store = openStore(path);
  return Object.assign(store, {
    async [Symbol.asyncDispose]() {
      store.close();
      await cleanup();
    },
  });
}

/** A valid new agent; override any field. */
export function sampleAgent(overrides: Partial<NewAgent> = {}): NewAgent {
  return {
    id: newId(),
    name: null,
    prompt: "say hi",
    cwd: "/work/a",
    model: "claude-sonnet-4-6",
    effort: "medium",
    kind: "standard",
    ...overrides,
  };
}

const encoder = new TextEncoder();

/** Bytes of a JSON line. */
export function jsonLine(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/**
 * Runs `testdata/<script>` with `args` in a child deno and resolves once it printed `ready` (e.g.
 * `LOCKED` from `hold_lock.ts`); the rest of its output is read on (`drained` settles when it
 * ended), so its last lines never block it.
 */
export async function startHelper(
  script: string,
  args: string[],
  ready: string,
): Promise<{ child: Deno.ChildProcess; drained: Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`./testdata/${script}`, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes(ready)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before printing ${ready}: ${out}`);
    out += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  drained.catch(() => {});
  return { child, drained };
}
