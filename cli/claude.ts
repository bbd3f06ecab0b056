/**
 * The local claude CLI as the operator's commands see it: where it is, its version, and
 * `claude auth status` (exit code + auth method; needs no network and prints no secrets).
 * @module
 */
import type { Env } from "@hero/core/config";

/**
 * Finds `bin` the way a spawn would: a path as is, a name on `PATH`. Directories this process may
 * not read are skipped (under the `cli` permission set only `<dir>/claude` files are readable).
 * Returns null when nothing is found.
 */
export function findClaude(bin: string, env: Env): string | null {
  const candidates = bin.includes("/")
    ? [bin]
    : (env.PATH ?? "").split(":").filter((d) => d.startsWith("/")).map((d) =>
      `${d.replace(/\/+$/, "")}/${bin}`
    );
  for (const path of candidates) {
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o755) & 0o111) !== 0) return path;
    } catch {
      // missing or not ours to see
    }
  }
  return null;
}

/** Compares dotted versions numerically: <0, 0 or >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split(".").map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Result of running a short claude subcommand. */
export interface ClaudeRun {
  code: number | null;
  stdout: string;
  /** Why it could not run at all (not found, not permitted, timed out). */
  error: string | null;
}

/** Runs `bin args…` with stdin closed and a timeout; never throws. */
export async function runClaude(
  bin: string,
  args: string[],
  timeoutMs = 15_000,
): Promise<ClaudeRun> {
  try {
    const out = await new Deno.Command(bin, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout), error: null };
  } catch (err) {
    const reason = err instanceof DOMException && err.name === "TimeoutError"
      ? `timed out after ${timeoutMs} ms`
      : err instanceof Error
      ? err.message
      : String(err);
    return { code: null, stdout: "", error: reason };
  }
}

/** `claude --version` → `2.1.328`, or the reason it failed. */
export async function claudeVersion(
  bin: string,
): Promise<{ version: string | null; error: string | null }> {
  const run = await runClaude(bin, ["--version"], 10_000);
  if (run.error) return { version: null, error: run.error };
  const version = /^(\d+\.\d+\.\d+)/.exec(run.stdout.trim())?.[1] ?? null;
  if (run.code !== 0 || !version) {
    return {
      version: null,
      error: `\`${bin} --version\` exited ${run.code}: ${run.stdout.trim().slice(0, 200)}`,
    };
  }
  return { version, error: null };
}

/** What `claude auth status` tells without secrets. */
export interface AuthStatus {
  /** Exit 0: credentials present (not validated: presence only). */
  loggedIn: boolean;
  /** `authMethod`: `claude.ai`, `api_key`, `oauth_token`, `none`; null if not parsed. */
  method: string | null;
  /** `apiKeySource`, e.g. `ANTHROPIC_API_KEY`. */
  apiKeySource: string | null;
  subscription: string | null;
  error: string | null;
}

/** Runs `claude auth status` (JSON by default in 2.1.x) and keeps only non-secret fields. */
export async function authStatus(bin: string): Promise<AuthStatus> {
  const run = await runClaude(bin, ["auth", "status"]);
  if (run.error || run.code === null) {
    return {
      loggedIn: false,
      method: null,
      apiKeySource: null,
      subscription: null,
      error: run.error,
    };
  }
  let parsed: Record<string, unknown> = {};
  try {
    const value = JSON.parse(run.stdout);
    if (value && typeof value === "object") parsed = value as Record<string, unknown>;
  } catch {
    // a text report: the exit code is what counts
  }
  const str = (key: string) => typeof parsed[key] === "string" ? parsed[key] as string : null;
  return {
    loggedIn: run.code === 0,
    method: str("authMethod"),
    apiKeySource: str("apiKeySource"),
    subscription: str("subscriptionType"),
    error: null,
  };
}
