/**
 * Whether agents can run on this machine, checked before the first one fails: the claude binary
 * and its version, a credential (never `ANTHROPIC_API_KEY`: the permission set denies it), root
 * without `IS_SANDBOX`, and the upstream API (a bounded HEAD). Each check says what to do.
 * Computed at start and on demand (`system.health {refresh: true}`).
 * @module
 */
import {
  DEFAULT_UPSTREAM_URL,
  type EngineSettings,
  type Env,
  TESTED_CLAUDE_VERSION,
} from "@hero/core/config";
import { CLI_COMMAND } from "@hero/core/models";
import { CredentialSource } from "@hero/core/proxy";
import type { ClaudeReadiness } from "@hero/core/rpc";

/** Options of {@linkcode createReadiness}. */
export interface ReadinessOptions {
  env: Env;
  settings: Pick<EngineSettings, "claude" | "proxy">;
  /** Where a stored API key would be (`login --api-key`); default from `env`. */
  apiKeyFile?: string | null;
  /** Upper bound of each probe (the version run, the HEAD). Default 10 s. */
  timeoutMs?: number;
  /** Ends the probes early (the daemon stopping). */
  signal?: AbortSignal;
}

/** The latest readiness and a way to check again. */
export interface Readiness {
  /** The last finished check, or null while the first runs. */
  current(): ClaudeReadiness | null;
  /** The last finished check, waiting for the first one. */
  latest(): Promise<ClaudeReadiness>;
  /** Checks again (joins a check already running). */
  refresh(): Promise<ClaudeReadiness>;
  /** Stops a check under way (its child process and request) and waits for it. */
  close(): Promise<void>;
}

type Check<T = unknown> = {
  status: ClaudeReadiness["root"]["status"];
  detail: string;
  fix: string | null;
} & T;

const INSTALL = `npm install -g @anthropic-ai/claude-code@${TESTED_CLAUDE_VERSION}`;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function bounded(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

async function checkBinary(
  bin: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ClaudeReadiness["binary"]> {
  const base = { bin, tested_version: TESTED_CLAUDE_VERSION };
  try {
    const out = await new Deno.Command(bin, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: bounded(timeoutMs, signal),
    }).output();
    const version = new TextDecoder().decode(out.stdout).trim().split(/\s+/)[0] || null;
    if (!out.success || !version) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
      return {
        ...base,
        version: null,
        status: "fail",
        detail: `\`${bin} --version\` exited with ${out.code}${
          err ? `: ${err.slice(0, 200)}` : ""
        }`,
        fix: `Reinstall the claude CLI (${INSTALL}) and restart the server`,
      };
    }
    if (version !== TESTED_CLAUDE_VERSION) {
      return {
        ...base,
        version,
        status: "warn",
        detail: `claude ${version} found; this release is tested with ${TESTED_CLAUDE_VERSION}`,
        fix: `It will probably work; to use the tested version: ${INSTALL}`,
      };
    }
    return { ...base, version, status: "ok", detail: `claude ${version} (${bin})`, fix: null };
  } catch (err) {
    const missing = err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotCapable;
    return {
      ...base,
      version: null,
      status: "fail",
      detail: missing
        ? `the claude CLI "${bin}" was not found${bin.includes("/") ? "" : " on PATH"}`
        : `\`${bin} --version\` failed: ${errorText(err)}`,
      fix: `Install it (${INSTALL}) or set HERO_ORCHESTRATOR_CLAUDE_BIN to its path, then ` +
        `restart the server`,
    };
  }
}

function checkCredential(env: Env, apiKeyFile?: string | null): ClaudeReadiness["credential"] {
  // ANTHROPIC_AUTH_TOKEN first, as the CLI does; ANTHROPIC_API_KEY is never read.
  if (env.ANTHROPIC_AUTH_TOKEN) {
    return {
      kind: "auth_token",
      status: "ok",
      detail: "ANTHROPIC_AUTH_TOKEN is set (sent as a Bearer token)",
      fix: null,
    };
  }
  let oauth: ReturnType<CredentialSource["oauth"]> = null;
  let source: CredentialSource | null = null;
  try {
    source = new CredentialSource(env, apiKeyFile === undefined ? {} : { apiKeyFile });
    oauth = source.oauth();
  } catch {
    oauth = null;
  }
  // A key a person stored goes before a login, as the proxy uses it.
  const stored = source?.storedApiKey() ?? null;
  if (stored) {
    return {
      kind: "api_key",
      status: "ok",
      detail: `an API key stored in ${stored.source} (login --api-key); agents never see it`,
      fix: null,
    };
  }
  const keyProblem = source?.storedApiKeyProblem() ?? null;
  if (keyProblem && !oauth) {
    return {
      kind: "none",
      status: "fail",
      detail: `the stored API key is refused: ${keyProblem}`,
      fix: `Store it again with \`${CLI_COMMAND} login --api-key\` (it is written mode 0600)`,
    };
  }
  if (oauth?.source === "CLAUDE_CODE_OAUTH_TOKEN") {
    return {
      kind: "oauth_token",
      status: "ok",
      detail: "CLAUDE_CODE_OAUTH_TOKEN is set",
      fix: null,
    };
  }
  if (oauth) {
    const expiry = oauth.expiresAt
      ? `; access token expires ${new Date(oauth.expiresAt).toISOString()}`
      : "";
    return {
      kind: "subscription",
      status: "ok",
      detail: `claude login in ${oauth.source}${expiry} (claude refreshes it)`,
      fix: null,
    };
  }
  return {
    kind: "none",
    status: "fail",
    detail: "no claude login, CLAUDE_CODE_OAUTH_TOKEN or ANTHROPIC_AUTH_TOKEN for the server's " +
      "user (ANTHROPIC_API_KEY is deliberately not used)",
    fix: `As the server's user, in a terminal: \`${CLI_COMMAND} login\` (a subscription), or ` +
      `\`${CLI_COMMAND} login --api-key\` (an API key, read from stdin or a hidden prompt)`,
  };
}

function uid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

function checkRoot(env: Env): Check {
  const id = uid();
  if (id !== 0) {
    return {
      status: "ok",
      detail: id === null ? "user id unknown" : `runs as uid ${id}`,
      fix: null,
    };
  }
  if (env.IS_SANDBOX === "1") {
    return { status: "ok", detail: "runs as root with IS_SANDBOX=1", fix: null };
  }
  return {
    status: "fail",
    detail: "runs as root without IS_SANDBOX=1: claude refuses to run agents (bypass mode) as root",
    fix: "Run the server as a normal user, or (inside a container or VM only) set IS_SANDBOX=1 " +
      "and restart",
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\./.test(hostname);
}

/** The API the agents' requests reach: the proxy's upstream when it carries them, else claude's own. */
function agentUpstream(env: Env, settings: ReadinessOptions["settings"]): string {
  if (settings.proxy.scope === "all") return settings.proxy.upstreamUrl;
  return (env.ANTHROPIC_BASE_URL || DEFAULT_UPSTREAM_URL).replace(/\/+$/, "");
}

async function checkUpstream(
  env: Env,
  settings: ReadinessOptions["settings"],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ClaudeReadiness["upstream"]> {
  const url = agentUpstream(env, settings);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {
      url,
      status: "fail",
      detail: `"${url}" is not a URL`,
      fix: "Set ANTHROPIC_BASE_URL to an http(s) URL (or unset it) and restart the server",
    };
  }
  // Tests set HERO_ORCHESTRATOR_CHECK_UPSTREAM=0 so nothing reaches the internet; a loopback
  // API (a local mock or gateway) is always checked.
  if (env.HERO_ORCHESTRATOR_CHECK_UPSTREAM === "0" && !isLoopback(parsed.hostname)) {
    return {
      url,
      status: "unchecked",
      detail: "not checked (HERO_ORCHESTRATOR_CHECK_UPSTREAM=0)",
      fix: null,
    };
  }
  const started = performance.now();
  try {
    const res = await fetch(`${url}/`, {
      method: "HEAD",
      redirect: "manual",
      signal: bounded(timeoutMs, signal),
    });
    await res.body?.cancel();
    return {
      url,
      status: "ok",
      detail: `${parsed.host} answered (HTTP ${res.status}) in ${
        Math.round(performance.now() - started)
      } ms`,
      fix: null,
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      return {
        url,
        status: "unchecked",
        detail: `not checked: the server has no network grant for ${parsed.host} (agents reach ` +
          `it themselves)`,
        fix: null,
      };
    }
    return {
      url,
      status: "fail",
      detail: `Cannot reach ${parsed.host}: ${
        err instanceof DOMException && err.name === "TimeoutError"
          ? `no answer in ${timeoutMs / 1000} s`
          : errorText(err)
      }`,
      fix: "Check the network (or HTTPS_PROXY) from this machine, or set ANTHROPIC_BASE_URL to " +
        "a reachable gateway, then restart the server",
    };
  }
}

/** Runs every check once. */
export async function checkReadiness(options: ReadinessOptions): Promise<ClaudeReadiness> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const [binary, upstream] = await Promise.all([
    checkBinary(options.settings.claude.bin, timeoutMs, options.signal),
    checkUpstream(options.env, options.settings, timeoutMs, options.signal),
  ]);
  const credential = checkCredential(options.env, options.apiKeyFile);
  const root = checkRoot(options.env);
  const ok = [binary, credential, root, upstream].every((c) => c.status !== "fail");
  return { ok, checked_at: Date.now(), binary, credential, root, upstream };
}

/** Starts the first check at once; later checks only when asked. */
export function createReadiness(options: ReadinessOptions): Readiness {
  let last: ClaudeReadiness | null = null;
  let running: Promise<ClaudeReadiness> | null = null;
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const refresh = () => {
    running ??= checkReadiness({ ...options, signal }).then((r) => {
      last = r;
      return r;
    }).finally(() => (running = null));
    return running;
  };
  const first = refresh();
  first.catch(() => {});
  return {
    current: () => last,
    latest: () => last ? Promise.resolve(last) : first,
    refresh,
    async close() {
      stop.abort();
      await running?.catch(() => {});
    },
  };
}

/** The readiness as lines for a terminal (`deno task start`, `cli doctor`). */
export function readinessLines(r: ClaudeReadiness): string[] {
  const mark = { ok: "✓", warn: "!", fail: "✗", unchecked: "-" } as const;
  const rows: Array<[string, Check]> = [
    ["claude", r.binary],
    ["credential", r.credential],
    ["root", r.root],
    ["upstream", r.upstream],
  ];
  const lines: string[] = [];
  for (const [name, c] of rows) {
    lines.push(`${mark[c.status]} ${name.padEnd(10)} ${c.detail}`);
    if (c.fix) lines.push(`  ${" ".repeat(10)} fix: ${c.fix}`);
  }
  return lines;
}
