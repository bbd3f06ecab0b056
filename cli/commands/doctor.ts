/**
 * `hero_orchestrator doctor`: one line per check (✓ ok, ! warning, ✗ failure with a concrete fix),
 * `--json` for machines, exit 1 when any check fails. Reads only: the doctor never writes a file.
 * @module
 */
import { statfsSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type ProxyScope,
  resolveEngineSettings,
  type SandboxSettings,
  TESTED_CLAUDE_VERSION,
} from "@hero/core/config";
import { CLI_COMMAND, TASK_COMMAND } from "@hero/core/models";
import { checkSqliteVersion, inspectDatabase, linkedSqliteVersion } from "@hero/core/store";
import type { ClaudeReadiness, ReadinessStatus, SystemInfo } from "@hero/sdk";
import {
  type AuthStatus,
  authStatus,
  claudeVersion,
  compareVersions,
  findClaude,
} from "../claude.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import { unixFetch } from "../unix_fetch.ts";
import {
  checkSearchProgress,
  isSearchIndexProblem,
  rebuildSearch,
  searchIntegrityCheck,
} from "./_search_check.ts";
import type { Command } from "./command.ts";

/** Outcome of one check. */
export type CheckStatus = "ok" | "warn" | "fail";

/** One line of the report. */
export interface Check {
  id: string;
  status: CheckStatus;
  message: string;
  /** What to do, for warnings and failures. */
  fix?: string;
}

/** WAL size above which a checkpoint is overdue. */
export const WAL_WARN_BYTES = 256 * 1024 * 1024;
/** Free space below which the var dir fails / warns. */
export const DISK_FAIL_BYTES = 256 * 1024 * 1024;
export const DISK_WARN_BYTES = 2 * 1024 * 1024 * 1024;

const USAGE = `Usage: hero_orchestrator doctor [--json] [--rebuild-search]

Checks the claude CLI, its login, the user (as the running server sees them, else this shell's),
the upstream, SQLite, the database, the sockets, disk space, the daemon lock, the search index,
the agents' sandbox and the proxy scope. One line per check: ✓ ok, ! warning, ✗ failure (with a
fix). Exit 1 if any check fails.
  --json      print {"ok": bool, "checks": [{id, status, message, fix?}]}
  --rebuild-search  ask the server to rebuild the full-text index (when doctor finds it damaged)
  -h, --help  print this help`;

function ok(id: string, message: string): Check {
  return { id, status: "ok", message };
}
function warn(id: string, message: string, fix: string): Check {
  return { id, status: "warn", message, fix };
}
function bad(id: string, message: string, fix: string): Check {
  return { id, status: "fail", message, fix };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function lstat(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function octal(mode: number | null): string {
  return ((mode ?? 0) & 0o777).toString(8).padStart(4, "0");
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function uid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

/** claude binary: found, runnable, version against the tested one. */
export async function checkClaude(bin: string, ctx: CliContext): Promise<Check> {
  const path = findClaude(bin, ctx.env);
  const install = `npm install -g @anthropic-ai/claude-code@${TESTED_CLAUDE_VERSION}`;
  const { version, error } = await claudeVersion(path ?? bin);
  if (!version) {
    return bad(
      "claude",
      `claude CLI not usable (${bin}): ${error ?? "no version"}`,
      `${install}, or point HERO_ORCHESTRATOR_CLAUDE_BIN at it`,
    );
  }
  const where = `${path ?? bin} ${version}`;
  const cmp = compareVersions(version, TESTED_CLAUDE_VERSION);
  if (cmp < 0) {
    return bad("claude", `${where} is older than the tested ${TESTED_CLAUDE_VERSION}`, install);
  }
  if (cmp > 0) {
    return warn(
      "claude",
      `${where} is newer than the tested ${TESTED_CLAUDE_VERSION} (the stream-json protocol may differ)`,
      `run the test suite against it, or pin it: ${install}`,
    );
  }
  return ok("claude", `${where} (the tested version)`);
}

/** `claude auth status`: exit code, plus whether an API key overrides a subscription login. */
export function checkAuth(status: AuthStatus): Check[] {
  const checks: Check[] = [];
  if (status.error) {
    checks.push(
      bad("auth", `\`claude auth status\` failed: ${status.error}`, "fix the claude check first"),
    );
  } else if (!status.loggedIn) {
    checks.push(
      bad(
        "auth",
        "claude has no credentials (`claude auth status` exited 1)",
        `run \`${CLI_COMMAND} login\` (or \`${CLI_COMMAND} login --api-key\`)`,
      ),
    );
  } else {
    const how = [status.method, status.subscription].filter(Boolean).join(", ");
    checks.push(
      ok("auth", `claude has credentials${how ? ` (${how})` : ""}; presence only, not validated`),
    );
  }
  if (status.apiKeySource === "ANTHROPIC_API_KEY") {
    checks.push(
      warn(
        "api_key",
        "ANTHROPIC_API_KEY is set in this environment: claude uses it instead of a subscription login (billed per token)",
        "unset ANTHROPIC_API_KEY (the service's permission sets never read it)",
      ),
    );
  } else {
    checks.push(ok("api_key", "no ANTHROPIC_API_KEY overrides the login"));
  }
  return checks;
}

/** Root: claude's bypass mode refuses uid 0 unless IS_SANDBOX=1. */
export function checkUser(
  ctx: CliContext,
  myUid: number | null,
  daemonUid: number | null,
): Check {
  const who = daemonUid === 0
    ? "the server runs as root (it owns rpc.sock)"
    : myUid === 0
    ? "this shell runs as root"
    : null;
  if (!who) return ok("user", `not root (uid ${myUid ?? "?"})`);
  if (ctx.env.IS_SANDBOX === "1") {
    return warn(
      "user",
      `${who}; IS_SANDBOX=1 lets claude bypass permissions, but agents' tools then run as root`,
      "run the service as a non-root user (docs/hero_orchestrator_server.service)",
    );
  }
  return bad(
    "user",
    `${who}: claude refuses --dangerously-skip-permissions as root, so every agent would fail`,
    "run as a non-root user (docs/hero_orchestrator_server.service), or set IS_SANDBOX=1 in a disposable sandbox",
  );
}

/**
 * The quota proxy's scope: only `all` keeps the real credential away from every agent (any other
 * scope puts it in standard agents' environments, where any tool can read it).
 */
export function checkProxyScope(scope: ProxyScope): Check {
  if (scope === "all") {
    return ok("proxy_scope", "every agent talks to the API through the proxy (scope all)");
  }
  return warn(
    "proxy_scope",
    `HERO_ORCHESTRATOR_PROXY_SCOPE=${scope}: standard agents get the real credential in their environment, where any tool (or injected instruction) can read it`,
    "unset HERO_ORCHESTRATOR_PROXY_SCOPE (default all)",
  );
}

/**
 * The agents' sandbox: what the running server decided at start (`system.info`), else what the
 * configuration asks for.
 */
export function checkSandbox(
  running: SystemInfo["sandbox"] | null,
  settings: SandboxSettings | null,
): Check {
  const install = "apt-get install bubblewrap (Debian), then restart the server";
  if (running?.mode === "bwrap") {
    return ok("sandbox", `agents run in bubblewrap: ${running.reason}`);
  }
  if (running) {
    return warn(
      "sandbox",
      `agents run WITHOUT a sandbox (${running.reason}): they can read and write everything the service user can, and a process that clears its environment survives cancel`,
      settings?.requested === "off" ? "unset HERO_ORCHESTRATOR_SANDBOX" : install,
    );
  }
  if (settings?.requested === "off") {
    return warn(
      "sandbox",
      "HERO_ORCHESTRATOR_SANDBOX=off: agents will run without a sandbox",
      "unset HERO_ORCHESTRATOR_SANDBOX",
    );
  }
  return ok(
    "sandbox",
    `the server decides at start (${
      settings?.requested === "bwrap" ? "bwrap required" : "bwrap when it works, else off"
    }); it is not answering now`,
  );
}

/** The SQLite linked into this runtime against the WAL-reset bug gate. */
export function checkSqlite(): Check {
  try {
    const version = linkedSqliteVersion();
    checkSqliteVersion(version);
    return ok("sqlite", `SQLite ${version}`);
  } catch (err) {
    return bad("sqlite", errText(err), "use the pinned Deno 2.9.6 (SQLite 3.53.2)");
  }
}

/** The database file: exists, opens, integrity, schema version, WAL size. */
export function checkDatabase(ctx: CliContext): Check[] {
  const db = ctx.paths.dbPath;
  let info: Deno.FileInfo | null;
  try {
    info = lstat(db);
  } catch (err) {
    return [
      bad(
        "db",
        `Cannot stat ${db}: ${errText(err)}`,
        "check PATH_VAR and the permissions of its directory",
      ),
    ];
  }
  if (!info) {
    return [
      warn("db", `${db} does not exist yet`, "start the server once; it creates the database"),
    ];
  }
  if (!info.isFile) {
    return [bad("db", `${db} is not a regular file`, "move it away and restart the server")];
  }
  const checks: Check[] = [];
  try {
    const report = inspectDatabase(db);
    // The full-text index is rebuilt from the stored lines: its problems get their own line.
    const search = searchIntegrityCheck(report.integrity);
    if (search) checks.push(search);
    const integrity = report.integrity.filter((r) => !isSearchIndexProblem(r)).join("; ") ||
      "ok";
    if (integrity !== "ok") {
      checks.push(
        bad(
          "db",
          `${db}: integrity_check: ${integrity.slice(0, 300)}`,
          "stop the server and restore the database from a backup",
        ),
      );
    } else if (report.schemaVersion > report.expectedSchemaVersion) {
      checks.push(
        bad(
          "db",
          `${db}: schema version ${report.schemaVersion} is newer than this build's ${report.expectedSchemaVersion}`,
          "upgrade hero_orchestrator to the version that wrote it",
        ),
      );
    } else if (report.schemaVersion < report.expectedSchemaVersion) {
      checks.push(
        warn(
          "db",
          `${db}: schema version ${report.schemaVersion}, this build migrates it to ${report.expectedSchemaVersion}`,
          "restart the server (it migrates at start)",
        ),
      );
    } else {
      checks.push(
        ok(
          "db",
          `${db}: integrity ok, schema ${report.schemaVersion}, ${report.journalMode}, ${
            mib(info.size)
          }`,
        ),
      );
    }
  } catch (err) {
    checks.push(
      bad(
        "db",
        `Cannot open ${db}: ${errText(err)}`,
        "check its owner and mode, or restore it from a backup",
      ),
    );
  }
  try {
    const wal = lstat(`${db}-wal`);
    const size = wal?.size ?? 0;
    checks.push(
      size > WAL_WARN_BYTES
        ? warn(
          "wal",
          `WAL is ${mib(size)}: checkpoints are falling behind`,
          "look for a long-running reader; restarting the server checkpoints it",
        )
        : ok("wal", `WAL ${mib(size)}`),
    );
  } catch (err) {
    checks.push(
      bad(
        "wal",
        `Cannot stat ${db}-wal: ${errText(err)}`,
        "check the permissions of the state directory",
      ),
    );
  }
  return checks;
}

/** Disk space where the database grows. */
export function checkDisk(ctx: CliContext): Check {
  const dir = ctx.paths.stateDir;
  try {
    const s = statfsSync(dir);
    const free = Number(s.bavail) * Number(s.bsize);
    if (free < DISK_FAIL_BYTES) {
      return bad(
        "disk",
        `${mib(free)} free at ${dir}`,
        "free disk space; SQLite writes fail when it runs out",
      );
    }
    if (free < DISK_WARN_BYTES) {
      return warn("disk", `${mib(free)} free at ${dir}`, "free disk space soon");
    }
    return ok("disk", `${mib(free)} free at ${dir}`);
  } catch (err) {
    if (err instanceof Error && /ENOENT|no such file/i.test(err.message)) {
      return warn("disk", `${dir} does not exist yet`, "start the server once; it creates it");
    }
    return bad("disk", `Cannot check free space at ${dir}: ${errText(err)}`, "check PATH_VAR");
  }
}

/** GET /health through a socket. */
async function health(socket: string): Promise<{ ok: boolean; detail: string }> {
  let t: ReturnType<typeof unixFetch> | null = null;
  try {
    t = unixFetch(socket);
    const res = await t.fetch("http://localhost/health", { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let status = "";
    let storage = "";
    try {
      const body = JSON.parse(text) as {
        status?: unknown;
        checks?: { storage?: { state?: string; last_error?: string | null } };
      };
      status = String(body.status ?? "");
      const st = body.checks?.storage;
      // A failing disk or a held lock: say so, the daemon holds agents until it passes.
      if (st?.state && st.state !== "ok") storage = ` (${st.state}: ${st.last_error ?? "?"})`;
    } catch {
      // not JSON
    }
    return { ok: res.ok, detail: `HTTP ${res.status}${status ? ` ${status}` : ""}${storage}` };
  } catch (err) {
    return { ok: false, detail: errText(err) };
  } finally {
    t?.close();
  }
}

/** The socket directory and each socket: type, owner, mode, and /health through it. */
export async function checkSockets(
  ctx: CliContext,
  myUid: number | null,
): Promise<{ checks: Check[]; daemonUid: number | null; rpcAnswers: boolean }> {
  const { socketDir, rpcSocket, adminSocket } = ctx.paths;
  const checks: Check[] = [];
  let daemonUid: number | null = null;
  let rpcAnswers = false;
  let dir: Deno.FileInfo | null;
  try {
    dir = lstat(socketDir);
  } catch (err) {
    return {
      checks: [bad("socket_dir", `Cannot stat ${socketDir}: ${errText(err)}`, "check PATH_SOCKET")],
      daemonUid,
      rpcAnswers,
    };
  }
  if (!dir) {
    checks.push(
      bad(
        "socket_dir",
        `${socketDir} does not exist: the server has never run here`,
        "start the server",
      ),
    );
  } else if (dir.isSymlink || !dir.isDirectory) {
    checks.push(
      bad("socket_dir", `${socketDir} is not a directory`, "remove it and restart the server"),
    );
  } else if (myUid !== null && dir.uid !== myUid) {
    checks.push(
      bad(
        "socket_dir",
        `${socketDir} is owned by uid ${dir.uid}, not ${myUid}`,
        `chown it to uid ${myUid} or run as its owner`,
      ),
    );
  } else if (((dir.mode ?? 0) & 0o777) !== 0o700) {
    checks.push(
      bad(
        "socket_dir",
        `${socketDir} has mode ${octal(dir.mode)}, expected 0700`,
        `chmod 700 ${socketDir}`,
      ),
    );
  } else {
    checks.push(ok("socket_dir", `${socketDir} (0700, yours)`));
  }
  for (
    const [id, path, optional] of [["rpc_socket", rpcSocket, false], [
      "admin_socket",
      adminSocket,
      true,
    ]] as const
  ) {
    let info: Deno.FileInfo | null = null;
    try {
      info = lstat(path);
    } catch (err) {
      checks.push(bad(id, `Cannot stat ${path}: ${errText(err)}`, "check PATH_SOCKET"));
      continue;
    }
    const start = id === "rpc_socket"
      ? `start hero_orchestrator_server (${TASK_COMMAND} start, or your service manager)`
      : `start hero_orchestrator_admin, or use \`${TASK_COMMAND} start\` (it serves the admin on 127.0.0.1)`;
    if (!info) {
      // `deno task start` serves the admin on 127.0.0.1 instead of admin.sock: with the server
      // up, an absent admin.sock is how that looks, not a fault.
      checks.push(
        !optional
          ? bad(id, `${path} is absent: the server is not running`, start)
          : rpcAnswers
          ? ok(
            id,
            `${path} is absent: no admin on its socket (\`${TASK_COMMAND} start\` serves it on ` +
              `127.0.0.1 instead; hero_router needs the socket)`,
          )
          : warn(id, `${path} is absent: the admin is not running on its socket`, start),
      );
      continue;
    }
    if (!info.isSocket) {
      checks.push(bad(id, `${path} is not a socket`, "remove it by hand, then restart"));
      continue;
    }
    if (id === "rpc_socket") daemonUid = info.uid;
    if (myUid !== null && info.uid !== myUid) {
      checks.push(
        bad(
          id,
          `${path} is owned by uid ${info.uid}, not ${myUid}`,
          "run the doctor as the service user",
        ),
      );
      continue;
    }
    if (((info.mode ?? 0) & 0o777) !== 0o600) {
      checks.push(
        bad(
          id,
          `${path} has mode ${octal(info.mode)}, expected 0600`,
          "restart it under umask 077",
        ),
      );
      continue;
    }
    const h = await health(path);
    if (id === "rpc_socket") rpcAnswers = h.ok;
    checks.push(
      h.ok ? ok(id, `${path} (0600) answers /health: ${h.detail}`) : bad(
        id,
        `${path} does not answer /health: ${h.detail}`,
        `${start}; a stale socket is replaced at start`,
      ),
    );
  }
  return { checks, daemonUid, rpcAnswers };
}

/**
 * The daemon lock: free, held by the server answering on rpc.sock, or held by another process.
 * The probe takes the lock for a moment when it is free (a daemon starting in that instant would
 * report it busy and can simply be started again).
 */
export function checkLock(ctx: CliContext, serverPid: number | null): Check {
  const path = ctx.paths.lockPath;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return ok("lock", "no daemon has run with this PATH_VAR yet");
    }
    return bad(
      "lock",
      `Cannot open ${path}: ${errText(err)}`,
      "check the permissions of the state directory",
    );
  }
  try {
    if (file.tryLockSync(true)) {
      file.unlockSync();
      return serverPid
        ? warn(
          "lock",
          `no daemon holds ${path}, yet a server answers on rpc.sock (pid ${serverPid})`,
          "that server uses another PATH_VAR: align PATH_VAR and PATH_SOCKET",
        )
        : ok("lock", "free: no daemon runs on this database");
    }
    let holder: number | null = null;
    try {
      const pid = Number(Deno.readTextFileSync(path).trim());
      holder = Number.isSafeInteger(pid) && pid > 0 ? pid : null;
    } catch {
      // unreadable: unknown holder
    }
    const who = holder ? `pid ${holder}` : "an unknown process";
    if (serverPid !== null && holder === serverPid) {
      return ok("lock", `held by the running server (pid ${holder})`);
    }
    if (serverPid !== null) {
      return bad(
        "lock",
        `the database lock is held by ${who}, but the server answering on rpc.sock is pid ${serverPid}`,
        `stop the second daemon (${who}); one daemon per database`,
      );
    }
    return bad(
      "lock",
      `${who} holds the database lock but no server answers on rpc.sock`,
      `it is stuck or uses another PATH_SOCKET: stop it (${
        holder ? `kill ${holder}` : "find it with `ps`"
      })`,
    );
  } finally {
    file.close();
  }
}

/**
 * The running server's readiness (`system.health` `claude`, checked again now) as doctor lines:
 * the claude binary, the credential, the user and the upstream as the server sees them.
 */
export function serverReadinessChecks(r: ClaudeReadiness): Check[] {
  const line = (
    id: string,
    c: { status: ReadinessStatus; detail: string; fix: string | null },
  ): Check => {
    const message = `server: ${c.detail}`;
    if (c.status === "fail") return bad(id, message, c.fix ?? "see the server's log");
    if (c.status === "warn") return warn(id, message, c.fix ?? "see the server's log");
    return ok(id, message);
  };
  return [
    line("claude", r.binary),
    line("auth", { ...r.credential, detail: `${r.credential.detail} [${r.credential.kind}]` }),
    line("user", r.root),
    line("upstream", r.upstream),
  ];
}

/** Runs every check. */
export async function runChecks(ctx: CliContext): Promise<Check[]> {
  let bin = "claude";
  let proxyScope: ProxyScope | null = null;
  let sandbox: SandboxSettings | null = null;
  const checks: Check[] = [];
  try {
    const settings = resolveEngineSettings(ctx.env);
    bin = settings.claude.bin;
    proxyScope = settings.proxy.scope;
    sandbox = settings.sandbox;
  } catch (err) {
    checks.push(bad("config", errText(err), "fix the HERO_ORCHESTRATOR_* variable it names"));
  }
  const myUid = uid();
  const sockets = await checkSockets(ctx, myUid);
  let info: SystemInfo | null = null;
  let readiness: ClaudeReadiness | null = null;
  if (sockets.rpcAnswers) {
    try {
      info = await ctx.client().system.info();
      readiness = (await ctx.client().system.health({ refresh: true })).claude;
    } catch {
      // reported by the socket check already
    }
  }
  if (readiness) {
    // A running server is what runs the agents: its environment decides, not this shell's.
    checks.push(...serverReadinessChecks(readiness));
  } else {
    const version = await checkClaude(bin, ctx);
    const auth = version.status === "fail"
      ? [bad("auth", "not checked: claude is not usable", "fix the claude check first")]
      : checkAuth(await authStatus(bin));
    checks.push(version, ...auth);
    checks.push(checkUser(ctx, myUid, sockets.daemonUid));
  }
  checks.push(checkSqlite());
  checks.push(...checkDatabase(ctx));
  checks.push(...sockets.checks);
  checks.push(checkDisk(ctx));
  checks.push(checkLock(ctx, info?.pid ?? null));
  if (sockets.rpcAnswers && !checks.some((k) => k.id === "search_index")) {
    checks.push(await checkSearchProgress(ctx));
  }
  checks.push(checkSandbox(info?.sandbox ?? null, sandbox));
  if (proxyScope !== null) checks.push(checkProxyScope(proxyScope));
  return checks;
}

/** Renders the report, one line per check. */
export function renderChecks(checks: Check[], ctx: CliContext): string {
  const c = ctx.color;
  const width = Math.max(...checks.map((k) => k.id.length));
  return checks.map((k) => {
    const mark = k.status === "ok"
      ? c.green("✓")
      : k.status === "warn"
      ? c.yellow("!")
      : c.red("✗");
    const fix = k.fix && k.status !== "ok" ? ` ${c.dim("→")} fix: ${k.fix}` : "";
    return `${mark} ${k.id.padEnd(width)}  ${k.message}${fix}\n`;
  }).join("");
}

export const doctor: Command = {
  name: "doctor",
  summary: "check the installation; exit 1 if anything is broken",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: { json: { type: "boolean" }, "rebuild-search": { type: "boolean" } },
        strict: true,
      }));
    } catch (err) {
      throw new UsageError(errText(err), "doctor");
    }
    if (values["rebuild-search"]) return await rebuildSearch(ctx);
    const checks = await runChecks(ctx);
    const failed = checks.some((k) => k.status === "fail");
    if (values.json) ctx.stdout.write(JSON.stringify({ ok: !failed, checks }, null, 2) + "\n");
    else ctx.stdout.write(renderChecks(checks, ctx));
    return failed ? 1 : 0;
  },
};
