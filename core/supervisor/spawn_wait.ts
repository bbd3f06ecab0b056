/**
 * Getting to the spawn: a bounded wait for the hook before it, and a shortage of file
 * descriptors: when the daemon has none left (other runs' pipes, client connections), a new run
 * waits for some to be freed instead of failing its agent; runs that end give theirs back.
 * @module
 */
import type { ClaudeProcess } from "../claude/mod.ts";
import type { SupervisorLog } from "./types.ts";

/** How long a spawn waits for file descriptors before the agent fails. */
export const FD_WAIT_LIMIT_MS = 10 * 60_000;

/** Options of {@linkcode spawnWhenDescriptorsFree}. */
export interface SpawnWaitOptions {
  /** The run was stopped (cancel, shutdown): stop waiting, the last error is thrown. */
  stopped(): boolean;
  log: SupervisorLog;
  agentId: string;
  /** Default {@linkcode FD_WAIT_LIMIT_MS}. */
  limitMs?: number;
}

/** Runs `spawn`, again with back-off (50 ms doubling to 2 s) while it fails for lack of descriptors. */
export async function spawnWhenDescriptorsFree(
  spawn: () => Promise<ClaudeProcess>,
  options: SpawnWaitOptions,
): Promise<ClaudeProcess> {
  const limit = options.limitMs ?? FD_WAIT_LIMIT_MS;
  for (let delay = 50, waited = 0;; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await spawn();
    } catch (err) {
      if (!outOfDescriptors(err) || options.stopped() || waited >= limit) throw err;
      if (waited === 0) {
        options.log("warn", "Cannot spawn claude yet: out of file descriptors; waiting", {
          agent: options.agentId,
        });
      }
      await new Promise((r) => setTimeout(r, delay));
      waited += delay;
    }
  }
}

/** Waits for `promise`, `ms` at most: a hook before the spawn that hangs must not hold it forever. */
export async function awaitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))])
    .finally(() => clearTimeout(timer));
}

/** EMFILE / ENFILE: this process, or the system, has no file descriptor left. */
export function outOfDescriptors(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (/os error 2[34]\b|Too many open files/.test(e.message)) return true;
  }
  return false;
}
