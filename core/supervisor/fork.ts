/**
 * Forks and continuations: a new agent whose first process resumes another session under a new
 * session id (`--resume --fork-session`, with `--resume-session-at` for a fork at a line), so
 * the original session file is never appended to. Used by the supervisor's `fork()` and by a
 * follow-up on an imported agent.
 * @module
 */
import { type Agent, InvalidStateError, newId, ValidationError } from "../models/mod.ts";
import type { EngineSettings, Env } from "../config/mod.ts";
import {
  type AgentIsolation,
  AgentNotFoundError,
  importedFileOfAgent,
  type Store,
} from "../store/mod.ts";
import { sanitizedCwd } from "../ledger/mod.ts";
import { checkCreateInput, checkFollowUpPrompt } from "./create_input.ts";
import { isolatedCwd, type IsolationMode } from "./isolation.ts";
import type { Worktrees } from "./worktrees.ts";

/** What forks need of the supervisor. */
export interface ForkContext {
  store: Store;
  settings: EngineSettings;
  protectedDirs: string[];
  allowedRoots: string[] | null;
  daemonEnv: Env;
  /** The config dir of a proxied child of `kind`, or null when it talks to the upstream itself. */
  proxyConfigDir(kind: "standard" | "planner"): string | null;
  /** Queues the stored agent and starts what fits. */
  enqueue(agent: Agent, voice: boolean): Agent;
  /** Makes (and on failure removes) the worktree of a fork that is isolated. */
  worktrees: Pick<Worktrees, "prepare" | "insertPrepared">;
}

/** How a fork is made (`agent.fork`'s options). */
export interface ForkOptions {
  name?: string | null;
  /**
   * `worktree`: a git worktree and branch of its own (from HEAD or `base_ref`); `none`: where the
   * original's cwd is. Default: a fork of an isolated agent is isolated too; otherwise the
   * configured default, as for a new agent.
   */
  isolation?: IsolationMode;
  base_ref?: string;
}

function mustGet(store: Store, id: string): Agent {
  const agent = store.getAgent(id);
  if (!agent) throw new AgentNotFoundError(id);
  return agent;
}

/**
 * The chain-entry uuid of agent `id`'s stored line `seq`: the point a fork keeps up to.
 * @throws {ValidationError} when that line is not a user or assistant line with a uuid.
 */
function forkPointOf(store: Store, id: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new ValidationError("invalid_params", `Cannot fork at ${seq}: seq must be >= 1`, "seq");
  }
  const [line] = store.readMessages(id, seq - 1, 1);
  let parsed: { type?: unknown; uuid?: unknown } | null = null;
  try {
    parsed = line?.seq === seq ? JSON.parse(line.raw) : null;
  } catch {
    parsed = null;
  }
  if (
    !parsed || (parsed.type !== "assistant" && parsed.type !== "user") ||
    typeof parsed.uuid !== "string"
  ) {
    throw new ValidationError(
      "invalid_params",
      `Cannot fork agent "${id}" at ${seq}: that line is not a message of its session`,
      "seq",
    );
  }
  return parsed.uuid;
}

/**
 * A new agent whose claude session is `id`'s up to and including the stored line `seq` (a user or
 * assistant line), continued with `prompt`. Its first process resumes the original session under
 * a new session id (`--resume --fork-session --resume-session-at <that line's uuid>`), so the
 * original session file is never appended to. The fork has the original's cwd, model, effort and
 * kind; it runs in a worktree of its own when isolated (`ForkOptions.isolation`), with a copy of
 * the session file where the CLI looks for that worktree's sessions.
 */
export async function forkAgent(
  ctx: ForkContext,
  id: string,
  seq: number,
  prompt: string,
  options: ForkOptions = {},
): Promise<Agent> {
  checkFollowUpPrompt(prompt);
  const source = mustGet(ctx.store, id);
  if (source.kind === "shadow") {
    throw new InvalidStateError(`Cannot fork agent "${id}": it is a shadow`);
  }
  if (!source.session_id) {
    throw new InvalidStateError(`Cannot fork agent "${id}": it has no claude session`);
  }
  const at = forkPointOf(ctx.store, id, seq);
  const checked = checkCreateInput({
    prompt,
    cwd: source.cwd,
    model: source.model,
    effort: source.effort,
    kind: source.kind === "planner" ? "planner" : "standard",
    home_mcp: source.home_mcp,
    hero_context: source.hero_context,
    name: options.name ?? null,
  }, {
    settings: ctx.settings,
    protectedDirs: ctx.protectedDirs,
    allowedRoots: ctx.allowedRoots,
  });
  const kind = checked.kind === "planner" ? "planner" : "standard";
  const name = checked.name ?? `Fork of ${source.name ?? source.id} at #${seq}`;
  const sourceIso = ctx.store.isolation(id) ?? null;
  const prepared = await ctx.worktrees.prepare({
    name,
    cwd: checked.cwd,
    isolation: options.isolation ?? (sourceIso ? "worktree" : undefined),
    base_ref: options.base_ref,
  });
  return await ctx.worktrees.insertPrepared(prepared, async () => {
    const runCwd = prepared?.cwd ?? null;
    if (source.kind === "imported") await provideSessionFile(ctx, source, kind, runCwd);
    else await provideSessionCopy(ctx, source, sourceIso, kind, runCwd ?? checked.cwd);
    const inserted = ctx.store.insertAgent({
      id: prepared?.id ?? newId(),
      name,
      prompt,
      cwd: checked.cwd,
      model: checked.model,
      effort: checked.effort,
      kind: checked.kind,
      home_mcp: checked.homeMcp,
      hero_context: checked.heroContext,
    }, prepared?.isolation);
    const agent = ctx.store.updateAgent(inserted.id, {
      fork_session_id: source.session_id,
      fork_at: at,
    });
    return ctx.enqueue(agent, false);
  });
}

/**
 * Continues an imported session under supervision: a new agent whose first process resumes the
 * imported session under a new session id (`--resume --fork-session`), in its cwd. The imported
 * transcript stays as it was, and its file is never written by us, so a later import of that file
 * adds only what its own owner appends. A proxied child has its own config dir: the session file
 * is copied there first (`provideSessionFile`).
 */
export async function adoptImported(
  ctx: ForkContext,
  imported: Agent,
  prompt: string,
  voice: boolean,
): Promise<Agent> {
  if (!imported.session_id) {
    throw new InvalidStateError(`Cannot continue agent "${imported.id}": it has no session id`);
  }
  const checked = checkCreateInput({ prompt, cwd: imported.cwd, name: null }, {
    settings: ctx.settings,
    protectedDirs: ctx.protectedDirs,
    allowedRoots: ctx.allowedRoots,
  });
  const model = imported.model === "unknown" ? checked.model : imported.model;
  await provideSessionFile(ctx, imported, "standard", null);
  const inserted = ctx.store.insertAgent({
    id: newId(),
    name: `Continued: ${imported.name ?? imported.session_id}`,
    prompt,
    cwd: checked.cwd,
    model,
    effort: checked.effort,
    kind: "standard",
  });
  const agent = ctx.store.updateAgent(inserted.id, {
    fork_session_id: imported.session_id,
    fork_at: null,
  });
  return ctx.enqueue(agent, voice);
}

/** The claude config dir a child of `kind` uses (its own when proxied, else the daemon's). */
function configDirOf(ctx: ForkContext, kind: "standard" | "planner" | null): string | null {
  const env = ctx.daemonEnv;
  return (kind ? ctx.proxyConfigDir(kind) : null) ??
    (env.CLAUDE_CONFIG_DIR || (env.HOME ? `${env.HOME}/.claude` : null));
}

/**
 * Makes an imported session resumable by a child of `kind` running in `runCwd` (null: the
 * imported cwd): a proxied child has its own config dir, and the CLI looks for a session under
 * projects/<its sanitized cwd>, so the session file is copied there when it is elsewhere.
 */
async function provideSessionFile(
  ctx: ForkContext,
  imported: Agent,
  kind: "standard" | "planner",
  runCwd: string | null,
): Promise<void> {
  const file = importedFileOfAgent(ctx.store, imported.id);
  const configDir = configDirOf(ctx, kind);
  if (!file || !configDir) return;
  // Same folder name: the CLI finds a cwd's sessions under projects/<sanitized cwd>.
  const folder = file.path.slice(0, file.path.lastIndexOf("/"));
  const target = runCwd === null ? folder.slice(folder.lastIndexOf("/") + 1) : sanitizedCwd(runCwd);
  await copySession(file.path, `${configDir}/projects/${target}`, file.session_id);
}

/**
 * A fork that runs somewhere else than its original (its own worktree, or the original ran in
 * one): the original's session file is copied to where the CLI looks for `runCwd`'s sessions.
 * Nothing happens when the file is already there or cannot be found (the CLI then says so).
 */
async function provideSessionCopy(
  ctx: ForkContext,
  source: Agent,
  sourceIso: AgentIsolation | null,
  kind: "standard" | "planner",
  runCwd: string,
): Promise<void> {
  const sourceCwd = sourceIso ? isolatedCwd(sourceIso, source.cwd) : source.cwd;
  const configDir = configDirOf(ctx, kind);
  if (!source.session_id || !configDir) return;
  const sourceKind = source.kind === "planner" ? "planner" : "standard";
  for (const dir of [configDirOf(ctx, sourceKind), configDirOf(ctx, null)]) {
    if (!dir) continue;
    const from = `${dir}/projects/${sanitizedCwd(sourceCwd)}/${source.session_id}.jsonl`;
    try {
      await Deno.stat(from);
    } catch {
      continue;
    }
    await copySession(from, `${configDir}/projects/${sanitizedCwd(runCwd)}`, source.session_id);
    return;
  }
}

/** Copies session file `from` into folder `target` (never over an existing file). */
async function copySession(from: string, target: string, sessionId: string): Promise<void> {
  const to = `${target}/${sessionId}.jsonl`;
  if (to === from) return;
  await Deno.mkdir(target, { recursive: true, mode: 0o700 });
  try {
    await Deno.copyFile(from, `${to}.tmp`);
    await Deno.link(`${to}.tmp`, to).catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    });
  } finally {
    await Deno.remove(`${to}.tmp`).catch(() => {});
  }
}
