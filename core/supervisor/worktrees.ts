/**
 * The supervisor's worktree operations (`supervisor.worktrees`): creating an agent in a git
 * worktree of its own, its diff, discarding its work, asking it to resolve conflicts with its
 * base, and the reconciliation of worktrees at start. The git work itself is in `isolation.ts`
 * and `core/git`; this room holds the lifecycle rules around it.
 * @module
 */
import { type Agent, BusyError, InvalidStateError, newId } from "../models/mod.ts";
import type { EngineSettings, Env } from "../config/mod.ts";
import { AgentNotFoundError, type Store } from "../store/mod.ts";
import {
  assertNoUnmergedWork,
  createGitRunner,
  finishInterruptedMerges,
  type GitRunner,
  removeWorktree,
} from "../git/mod.ts";
import { checkCreateInput, checkFollowUpAgent, type CreateAgentInput } from "./create_input.ts";
import {
  type AgentDiff,
  agentDiff,
  assertWorktreePresent,
  type IsolationMode,
  mergeBaseIntoWorktree,
  type PreparedWorktree,
  prepareWorktree,
  reconcileWorktrees,
  removeAgentWorktree,
  type WorktreeRecovery,
} from "./isolation.ts";
import type { SupervisorLog } from "./types.ts";
import type { AgentRun } from "./run.ts";

/** `agent.create`'s input with the isolation it asks for. */
export type IsolatedCreateInput = CreateAgentInput & {
  isolation?: IsolationMode;
  base_ref?: string;
  /** The branch's name (default `hero/<slug of name>-<short id>`). */
  branch?: string;
  /** Fetch the base branch's upstream first and start from its tip. */
  fetch?: boolean;
};

/** What the worktree operations need of the supervisor. */
export interface WorktreeContext {
  store: Store;
  settings: EngineSettings;
  protectedDirs: string[];
  allowedRoots: string[] | null;
  /** `<state dir>/worktrees`, or null: every agent runs in its cwd. */
  worktreeDir: string | null;
  log: SupervisorLog;
  titleFor(prompt: string): string;
  /** The supervisor's create(), storing the agent with its prepared worktree. */
  insert(input: CreateAgentInput, prepared: PreparedWorktree | null): Agent;
  followUp(id: string, prompt: string): Promise<Agent>;
  /** The agent's run (a process, or a live session idle in review), if any. */
  runOf(id: string): AgentRun | undefined;
  shuttingDown(): boolean;
}

/** Worktree isolation and review of the supervisor's agents. */
export class Worktrees {
  #context: () => WorktreeContext;
  #git: GitRunner;

  /** `context` is read at each call (the supervisor's state as it is then). */
  constructor(context: () => WorktreeContext, options: { git?: GitRunner; daemonEnv: Env }) {
    this.#context = context;
    this.#git = options.git ?? createGitRunner(options.daemonEnv);
  }

  get #c(): WorktreeContext & { git: GitRunner } {
    return { ...this.#context(), git: this.#git };
  }

  /** git as the supervisor runs it (clean environment). */
  get git(): GitRunner {
    return this.#git;
  }

  /**
   * Like the supervisor's create(), with worktree isolation: `isolation` (or the configured
   * default) decides whether the agent gets a git worktree and branch of its own (from HEAD or
   * `base_ref`) and runs there.
   */
  async create(input: IsolatedCreateInput): Promise<Agent> {
    const c = this.#c;
    if (c.shuttingDown()) throw new BusyError("Cannot create agent: the daemon is shutting down");
    const checked = checkCreateInput(input, c);
    const prepared = checked.kind === "shadow" ? null : await this.prepare({
      name: checked.name ?? c.titleFor(input.prompt),
      cwd: checked.cwd,
      isolation: input.isolation,
      base_ref: input.base_ref,
      branch: input.branch,
      fetch: input.fetch,
    });
    return this.insertPrepared(prepared, () => c.insert(input, prepared));
  }

  /** A worktree and branch for a new agent, or null when it runs in `cwd` (`isolation.ts`). */
  prepare(options: {
    name: string;
    cwd: string;
    isolation: IsolationMode | undefined;
    base_ref: string | undefined;
    branch?: string | undefined;
    fetch?: boolean | undefined;
  }): Promise<PreparedWorktree | null> {
    return prepareWorktree(this.#git, {
      id: newId(),
      name: options.name,
      cwd: options.cwd,
      mode: options.isolation,
      baseRef: options.base_ref,
      branch: options.branch,
      fetch: options.fetch,
      setting: this.#c.settings.isolation,
      worktreeDir: this.#c.worktreeDir,
    });
  }

  /** Stores an agent made for `prepared`; the worktree goes again when that fails. */
  async insertPrepared(
    prepared: PreparedWorktree | null,
    insert: () => Agent | Promise<Agent>,
  ): Promise<Agent> {
    if (!prepared) return await insert();
    try {
      if (this.#c.shuttingDown()) {
        throw new BusyError("Cannot create agent: the daemon is shutting down");
      }
      return await insert();
    } catch (err) {
      const { repo_root, worktree_path, branch, base_sha } = prepared.isolation;
      await removeWorktree(this.#git, {
        repoRoot: repo_root,
        path: worktree_path,
        branch,
        base: base_sha,
        force: true,
      }).catch(() => {});
      throw err;
    }
  }

  /** The agent's changes against its base (`isolation.ts`). */
  diff(
    id: string,
    options: { path?: string; context?: number; patches?: boolean } = {},
  ): Promise<AgentDiff> {
    const dir = this.#c.worktreeDir;
    return agentDiff(this.#c.store, this.#git, id, {
      ...options,
      ...(dir ? { tmpRoot: `${dir}/../tmp` } : {}),
    });
  }

  /** Removes agent `id`'s worktree and branch before its delete (unmerged work needs `force`). */
  async removeForDelete(id: string, force: boolean): Promise<void> {
    await removeAgentWorktree(this.#c.store, this.#git, id, force);
  }

  /**
   * Throws an agent's work away: removes its worktree and branch (refused when they hold unmerged
   * work, unless `force`); an agent in review ends `cancelled` (`discarded`).
   */
  async discard(id: string, options: { force?: boolean } = {}): Promise<Agent> {
    const { store } = this.#c;
    const agent = mustGet(store, id);
    if (agent.status === "queued" || agent.status === "running") {
      throw new InvalidStateError(
        `Cannot discard agent "${id}": it is ${agent.status} (cancel it first)`,
      );
    }
    if (!store.isolation(id)) {
      throw new InvalidStateError(
        `Cannot discard agent "${id}": it ran in its cwd, not in a worktree of its own`,
      );
    }
    // A live session idle in review ends first: its process must not outlive its worktree.
    const run = this.#c.runOf(id);
    if (run) {
      const iso = store.isolation(id);
      if (!options.force && iso && iso.removed_at === null) {
        await assertNoUnmergedWork(this.#git, {
          repoRoot: iso.repo_root,
          path: iso.worktree_path,
          branch: iso.branch,
          base: iso.base_ref ?? iso.base_sha,
        });
      }
      run.session.endSession();
      await run.done;
    }
    await removeAgentWorktree(store, this.#git, id, options.force === true);
    const now = mustGet(store, id);
    if (now.status !== "awaiting_review") return now;
    return store.transition(id, "cancelled", {
      finished_at: Date.now(),
      error_code: "discarded",
      error_message: "Discarded in review: its worktree and branch were removed",
    });
  }

  /**
   * Asks an isolated agent in review to resolve its conflicts with its base branch: what is
   * uncommitted in its worktree is committed, the base branch is merged into its branch there, and
   * when that conflicts, a follow-up names the files and asks the agent to fix and commit them
   * (its branch then fast-forwards). Returns the conflicting files ([]: merged cleanly, no
   * follow-up). The user's tree and the base branch are not touched.
   */
  async resolveConflicts(id: string): Promise<{ agent: Agent; conflicts: string[] }> {
    const { store } = this.#c;
    const agent = checkFollowUpAgent(mustGet(store, id));
    assertWorktreePresent(store, agent);
    const iso = store.isolation(id);
    if (!iso || iso.base_ref === null) {
      throw new InvalidStateError(
        `Cannot resolve conflicts of agent "${id}": it has no worktree with a base branch`,
      );
    }
    const dir = this.#c.worktreeDir;
    const conflicts = await mergeBaseIntoWorktree(
      this.#git,
      iso,
      dir ? `${dir}/../tmp` : undefined,
    );
    if (conflicts.length === 0) return { agent: mustGet(store, id), conflicts };
    const base = iso.base_ref.replace(/^refs\/heads\//, "");
    const prompt = [
      `Your branch ${iso.branch} conflicts with ${base}, which moved on while you worked.`,
      `I merged ${base} into your branch in your working directory; git stopped with conflicts in:`,
      ...conflicts.map((f) => `- ${f}`),
      "",
      "Resolve the conflict markers in these files keeping both intents, then `git add` them and " +
      "`git commit --no-edit` to conclude the merge. Do not push.",
    ].join("\n");
    return { agent: await this.#c.followUp(id, prompt), conflicts };
  }

  /**
   * At start: a merge interrupted after its ref update brings the user's checkouts along,
   * orphaned worktrees are pruned, live agents whose worktree is gone fail.
   */
  async reconcile(): Promise<WorktreeRecovery | null> {
    const dir = this.#c.worktreeDir;
    if (!dir) return null;
    await finishInterruptedMerges(this.#git, `${dir}/../merges`, this.#c.log);
    return await reconcileWorktrees(this.#c.store, this.#git, dir, this.#c.log);
  }
}

function mustGet(store: Store, id: string): Agent {
  const agent = store.getAgent(id);
  if (!agent) throw new AgentNotFoundError(id);
  return agent;
}
