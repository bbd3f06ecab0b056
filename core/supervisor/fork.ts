/**
 * Forks and continuations: a new agent whose first process resumes another session under a new
 * session id (`--resume --fork-session`, with `--resume-session-at` for a fork at a line), so
 * the original session file is never appended to. Used by the supervisor's `fork()` and by a
 * follow-up on an imported agent.
 * @module
 */
import { type Agent, InvalidStateError, newId, ValidationError } from "../models/mod.ts";
import type { EngineSettings, Env } from "../config/mod.ts";
import { AgentNotFoundError, importedFileOfAgent, type Store } from "../store/mod.ts";
import { checkCreateInput, checkFollowUpPrompt } from "./create_input.ts";
import type { IsolationMode } from "./isolation.ts";
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
 * kind; it runs in a worktree of its own when isolated (`ForkOptions.isolation`).
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
    // The CLI finds the session in its config dir whatever the cwd, so a worktree needs no copy.
    if (source.kind === "imported") await provideSessionFile(ctx, source, kind);
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
      // A fork asks before tools run exactly when its source did.
      permission_mode: source.permission_mode,
    }, prepared?.isolation);
    const agent = ctx.store.updateAgent(inserted.id, {
      fork_session_id: source.session_id,
      fork_at: at,
    });
    return ctx.enqueue(agent, false);
  });
}

/**
 * Adopts an imported session: a new, supervised agent whose first process resumes that very
 * session id (`--resume`, no fork), in its cwd, so the conversation goes on where its owner left
 * it. From then on the supervisor owns the session: the imported agent keeps the transcript up to
 * the adoption (an import of the file leaves it alone once a supervised agent owns its session),
 * and later prompts to it go to this agent. A proxied child has its own config dir: the session
 * file is copied there first (`provideSessionFile`).
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
  await provideSessionFile(ctx, imported, "standard");
  const inserted = ctx.store.insertAgent({
    id: newId(),
    name: `Continued: ${imported.name ?? imported.session_id}`,
    prompt,
    cwd: checked.cwd,
    model,
    effort: checked.effort,
    kind: "standard",
  });
  // A follow-up of the imported session: its prompt and mode wait on the row (the queue's one
  // truth) and its first process resumes `session_id`.
  const agent = ctx.store.updateAgent(inserted.id, {
    session_id: imported.session_id,
    pending_prompt: prompt,
    pending_permission_mode: "bypassPermissions",
  });
  return ctx.enqueue(agent, voice);
}

/**
 * Makes an imported session resumable by a child of `kind`: a proxied child has its own config
 * dir, so the session file is copied there (never over an existing one, which may hold an
 * earlier continuation). A direct child shares the daemon's config dir, where the file already is.
 */
async function provideSessionFile(
  ctx: ForkContext,
  imported: Agent,
  kind: "standard" | "planner",
): Promise<void> {
  const file = importedFileOfAgent(ctx.store, imported.id);
  const env = ctx.daemonEnv;
  const configDir = ctx.proxyConfigDir(kind) ??
    (env.CLAUDE_CONFIG_DIR || (env.HOME ? `${env.HOME}/.claude` : null));
  if (!file || !configDir) return;
  // Same folder name: the CLI finds a cwd's sessions under projects/<sanitized cwd>.
  const folder = file.path.slice(0, file.path.lastIndexOf("/"));
  const target = `${configDir}/projects/${folder.slice(folder.lastIndexOf("/") + 1)}`;
  const to = `${target}/${file.session_id}.jsonl`;
  if (to === file.path) return;
  await Deno.mkdir(target, { recursive: true, mode: 0o700 });
  try {
    await Deno.copyFile(file.path, `${to}.tmp`);
    await Deno.link(`${to}.tmp`, to).catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    });
  } finally {
    await Deno.remove(`${to}.tmp`).catch(() => {});
  }
}
