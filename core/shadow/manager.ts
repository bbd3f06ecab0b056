/**
 * Shadow agents: short, tool-less claude runs (default model haiku) tied to a main agent, stored
 * with kind `shadow` and the main agent as parent, run through the quota proxy under the default
 * scope, in slots of their own.
 *
 * - Naming shadow: an agent created without a name gets its prompt's first words at once; a
 *   shadow then turns the prompt into a 2–6 word title.
 * - Commit shadow: when an agent in a git work tree reaches awaiting_review with changes, a shadow
 *   writes a conventional commit message from the diff; `complete(id, {commit: true})` commits the
 *   files the agent changed with it (see `git.ts` for what is refused).
 *
 * A shadow turn counts as failed only by its result line (`is_error`, `api_error_status`), never
 * by its text, and a transient failure is retried (up to `retries` times, backing off). A shadow
 * never blocks or fails its main agent: every error ends in the fallback and a log line.
 * @module
 */
import type { Log } from "@hero/service/log";
import type { ShadowSettings } from "../config/mod.ts";
import { type Agent, InvalidStateError } from "../models/mod.ts";
import type { CommitRecord, Store } from "../store/mod.ts";
import { readResult, type TurnResult } from "../claude/mod.ts";
import { mergeAgent, type MergeMade } from "./merge.ts";
import {
  assertCommittable,
  changesSince,
  commitFiles,
  CommitRefusedError,
  describeChanges,
  type GitRunner,
  type MergeStrategy,
  takeSnapshot,
  type WorktreeChanges,
} from "../git/mod.ts";
import {
  cleanCommitMessage,
  cleanTitle,
  commitPrompt,
  fallbackCommitMessage,
  fallbackTitle,
  namingPrompt,
} from "./text.ts";

/** The lifecycle hooks the manager installs on its host. */
export interface ShadowHooks {
  created?(agent: Agent, info: { autoNamed: boolean }): void;
  beforeFirstStart?(agent: Agent): Promise<void>;
  runEnded?(agent: Agent): void;
}

/** What the manager needs of the supervisor: hooks, and running, retrying and completing shadows. */
export interface ShadowHost {
  setHooks(hooks: ShadowHooks): void;
  createShadow(input: { parent: Agent; prompt: string; name: string; model: string }): Agent;
  retryShadow(id: string): Agent;
  /** Resolves once the agent has no live run. */
  settled(id: string): Promise<Agent>;
  complete(id: string): Agent;
}

export interface ShadowManagerOptions {
  store: Store;
  supervisor: ShadowHost;
  settings: ShadowSettings;
  git: GitRunner;
  log: Log;
  /** Scratch space for the commit's temporary index (default: the OS temp dir). */
  tmpDir?: string;
}

/** How one shadow task ended. */
export type ShadowOutcome =
  | { ok: true; text: string; shadowId: string; attempts: number }
  | { ok: false; reason: string; shadowId: string | null; attempts: number };

/** What `complete(id, {commit: true})` committed. */
export interface CommitMade {
  sha: string;
  message: string;
  /** `shadow` when the commit shadow wrote the message, else `fallback`. */
  source: "shadow" | "fallback";
  files: string[];
  toplevel: string;
}

/** HTTP statuses a retry cannot fix: the request itself or the configuration is wrong. */
const PERMANENT_STATUSES = new Set([400, 401, 404, 413]);

/** Agent error codes that end a shadow without a retry. */
const FINAL_ERROR_CODES = new Set([
  "spawn_failed",
  "daemon_shutdown",
  "cancelled",
  // A person has to act first: retrying cannot help.
  "not_logged_in",
  "invalid_api_key",
  "claude_not_found",
  "root_without_sandbox",
  "invalid_cwd",
]);

export class ShadowManager {
  #o: ShadowManagerOptions;
  #tasks = new Set<Promise<unknown>>();
  /** The newest commit-shadow task per main agent. */
  #commitTasks = new Map<string, Promise<unknown>>();
  #closed = false;
  #closing = new AbortController();

  constructor(options: ShadowManagerOptions) {
    this.#o = options;
  }

  /** Whether a commit shadow is still writing a message for agent `id`. */
  commitPending(id: string): boolean {
    return this.#commitTasks.has(id);
  }

  /** Hooks the manager into the supervisor's lifecycle. */
  attach(): void {
    this.#o.supervisor.setHooks({
      created: (agent, { autoNamed }) => {
        if (autoNamed && this.#enabled("naming")) this.#track(this.#name(agent));
      },
      beforeFirstStart: async (agent) => {
        if (this.#enabled("commit")) await this.#snapshot(agent);
      },
      runEnded: (agent) => {
        if (
          agent.kind !== "shadow" && agent.status === "awaiting_review" && this.#enabled("commit")
        ) {
          const task = this.#proposeCommit(agent);
          this.#commitTasks.set(agent.id, task);
          this.#track(task.finally(() => {
            if (this.#commitTasks.get(agent.id) === task) this.#commitTasks.delete(agent.id);
          }));
        }
      },
    });
  }

  /**
   * Before the supervisor's own recovery: shadows a previous daemon left queued are cancelled
   * (their main agents keep their fallback), finished ones left in review are completed.
   */
  recover(): void {
    const { store } = this.#o;
    const stale = (statuses: Agent["status"][]) =>
      store.listAgents({ kinds: ["shadow"], statuses, limit: 1000 }).agents.map((a) => a.id);
    store.transitionMany(stale(["queued"]), "cancelled", {
      error_code: "daemon_restart",
      error_message: "The daemon restarted before this shadow ran",
      finished_at: Date.now(),
    });
    store.transitionMany(stale(["awaiting_review"]), "completed", { finished_at: Date.now() });
  }

  /** Stops starting shadow work and waits for the tasks in flight (they end in fallbacks). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    await Promise.allSettled([...this.#tasks]);
  }

  /** Waits `ms`, or less when the manager closes. */
  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#closing.signal;
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #enabled(purpose: "naming" | "commit"): boolean {
    return !this.#closed && this.#o.settings.enabled.includes(purpose);
  }

  #track<T>(task: Promise<T>): void {
    const tracked = task.catch((err) =>
      this.#o.log("error", "shadow task failed", { error: String(err) })
    );
    this.#tasks.add(tracked);
    tracked.finally(() => this.#tasks.delete(tracked));
  }

  // --- running one shadow turn ----------------------------------------------------------------

  /**
   * Runs one shadow turn for `parent` with `prompt`, retrying transient failures. Resolves with
   * the answer text of a result line that had `is_error: false`, or why there is none.
   */
  async runShadow(parent: Agent, purpose: string, prompt: string): Promise<ShadowOutcome> {
    const { supervisor, settings } = this.#o;
    let shadow: Agent;
    try {
      shadow = supervisor.createShadow({
        parent,
        prompt,
        name: `${purpose} shadow`,
        model: settings.model,
      });
    } catch (err) {
      return { ok: false, reason: String(err), shadowId: null, attempts: 0 };
    }
    for (let attempt = 1;; attempt++) {
      const fromSeq = shadow.last_seq;
      const settled = await supervisor.settled(shadow.id);
      const result = this.#lastResult(shadow.id, fromSeq);
      if (settled.status === "awaiting_review" && result && !result.isError) {
        try {
          supervisor.complete(shadow.id);
        } catch {
          // completed or changed meanwhile: the answer stands
        }
        return { ok: true, text: result.result ?? "", shadowId: shadow.id, attempts: attempt };
      }
      const reason = result?.isError
        ? `result is_error (api_error_status ${result.apiErrorStatus ?? "null"})`
        : `${settled.status}${settled.error_code ? ` (${settled.error_code})` : ""}`;
      const retry = attempt <= settings.retries && !this.#closed &&
        settled.status === "failed" && this.#transient(settled, result);
      this.#o.log(retry ? "warn" : "error", "shadow turn failed", {
        parent: parent.id,
        shadow: shadow.id,
        purpose,
        attempt,
        reason,
        retry,
      });
      if (!retry) return { ok: false, reason, shadowId: shadow.id, attempts: attempt };
      await this.#delay(settings.retryDelayMs * 2 ** (attempt - 1));
      try {
        shadow = supervisor.retryShadow(shadow.id);
      } catch (err) {
        return { ok: false, reason: String(err), shadowId: shadow.id, attempts: attempt };
      }
    }
  }

  /** The last result line stored after `fromSeq`, read through `readResult` (never by text). */
  #lastResult(shadowId: string, fromSeq: number): TurnResult | null {
    let found: TurnResult | null = null;
    let after = fromSeq;
    for (;;) {
      const page = this.#o.store.readMessages(shadowId, after, 1000);
      if (page.length === 0) return found;
      for (const line of page) {
        if (line.type !== "result" || line.parse_error) continue;
        try {
          found = readResult(JSON.parse(line.raw)) ?? found;
        } catch {
          // unparsable: not a result we can trust
        }
      }
      after = page[page.length - 1]!.seq;
    }
  }

  /** A failure worth another try: an API error other than a bad request, or a crashed run. */
  #transient(agent: Agent, result: TurnResult | null): boolean {
    if (agent.error_code && FINAL_ERROR_CODES.has(agent.error_code)) return false;
    if (result?.isError && result.apiErrorStatus !== null) {
      return !PERMANENT_STATUSES.has(result.apiErrorStatus);
    }
    return true;
  }

  // --- naming -----------------------------------------------------------------------------------

  async #name(agent: Agent): Promise<void> {
    const fallback = agent.name ?? fallbackTitle(agent.prompt);
    const outcome = await this.runShadow(agent, "naming", namingPrompt(agent.prompt));
    const title = outcome.ok ? cleanTitle(outcome.text) : null;
    if (!title) {
      if (outcome.ok) {
        this.#o.log("warn", "naming shadow answered no usable title; keeping the fallback", {
          agent: agent.id,
          shadow: outcome.shadowId,
        });
      }
      return;
    }
    const current = this.#o.store.getAgent(agent.id);
    // Only the fallback is replaced: never a name someone set meanwhile.
    if (!current || current.name !== fallback) return;
    this.#o.store.updateAgent(agent.id, { name: title });
  }

  // --- commit -----------------------------------------------------------------------------------

  async #snapshot(agent: Agent): Promise<void> {
    const { store, git, log } = this.#o;
    if (store.worktreeSnapshot(agent.id)) return;
    try {
      const snapshot = await takeSnapshot(git, agent.cwd);
      if (snapshot) {
        const { truncated: _, ...stored } = snapshot;
        store.saveWorktreeSnapshot(agent.id, stored);
      }
    } catch (err) {
      log("warn", "Cannot record the work tree state", { agent: agent.id, error: String(err) });
    }
  }

  /** On awaiting_review: if the agent changed files, get a commit message for them. */
  async #proposeCommit(agent: Agent): Promise<void> {
    const { store, git, log } = this.#o;
    const snapshot = store.worktreeSnapshot(agent.id);
    if (!snapshot) return;
    let changes: WorktreeChanges;
    try {
      changes = await changesSince(git, snapshot);
    } catch (err) {
      log("warn", "Cannot read the agent's changes", { agent: agent.id, error: String(err) });
      return;
    }
    if (changes.files.length === 0) return;
    const { status, diff } = await describeChanges(git, changes);
    const outcome = await this.runShadow(agent, "commit", commitPrompt(status, diff));
    const message = outcome.ok ? cleanCommitMessage(outcome.text) : null;
    if (outcome.ok && !message) {
      log("warn", "commit shadow answered no conventional commit message; using the fallback", {
        agent: agent.id,
        shadow: outcome.shadowId,
      });
    }
    try {
      store.saveCommitProposal(agent.id, {
        message: message ?? fallbackCommitMessage(agent.name, changes.files),
        source: message ? "shadow" : "fallback",
        shadow_id: outcome.shadowId,
        files: changes.files,
        prepared_at: Date.now(),
      });
    } catch (err) {
      log("warn", "Cannot store the commit proposal", { agent: agent.id, error: String(err) });
    }
  }

  /**
   * awaiting_review → completed; with `commit`, first commits the files the agent changed since
   * its first start, with the commit shadow's message (waiting up to `commitWaitMs` for a shadow
   * still running; the fallback message otherwise). Refuses (CommitRefusedError, nothing changed)
   * on conflicts, a moved HEAD, files that were already dirty, or another agent in the same tree.
   */
  async complete(
    id: string,
    options: { commit?: boolean; merge?: boolean; strategy?: MergeStrategy } = {},
  ): Promise<{ agent: Agent; commit: CommitMade | null; merge: MergeMade | null }> {
    const { store, supervisor } = this.#o;
    const agent = store.getAgent(id);
    if (options.merge && agent) {
      const message = () => this.#messageFor(agent, null);
      return await mergeAgent(this.#o, agent, options.strategy ?? "merge", message);
    }
    if (!options.commit || !agent) {
      return { agent: supervisor.complete(id), commit: null, merge: null };
    }
    return { ...(await this.#commit(agent)), merge: null };
  }

  async #commit(agent: Agent): Promise<{ agent: Agent; commit: CommitMade | null }> {
    const { store, supervisor, git } = this.#o;
    const id = agent.id;
    if (agent.status !== "awaiting_review") {
      throw new InvalidStateError(
        `Cannot complete agent "${id}": it is ${agent.status} (needs awaiting_review)`,
      );
    }
    const snapshot = store.worktreeSnapshot(id);
    if (!snapshot) {
      throw new CommitRefusedError(
        "not_git",
        `Cannot commit: agent "${id}" did not start in a git work tree (or its state was not recorded)`,
      );
    }
    const changes = await changesSince(git, snapshot);
    assertCommittable(changes);
    this.#assertAlone(agent, snapshot.toplevel);
    const pending = this.#commitTasks.get(id);
    if (pending) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        pending,
        new Promise((r) => (timer = setTimeout(r, this.#o.settings.commitWaitMs))),
      ]).finally(() => clearTimeout(timer));
    }
    const proposal = store.commitRecord(id);
    const fromShadow = proposal && proposal.sha === null && proposal.source === "shadow" &&
      sameFiles(proposal.files, changes.files);
    const message = fromShadow
      ? proposal.message
      : fallbackCommitMessage(agent.name, changes.files);
    const source = fromShadow ? "shadow" : "fallback";
    // Re-check right before committing: the status may have moved while we waited.
    const now = store.getAgent(id);
    if (now?.status !== "awaiting_review") {
      throw new InvalidStateError(
        `Cannot complete agent "${id}": it is ${now?.status ?? "gone"} (needs awaiting_review)`,
      );
    }
    const sha = await commitFiles(
      git,
      changes,
      message,
      `hero_orchestrator: commit the changes of agent ${id}`,
      this.#o.tmpDir,
    );
    store.recordCommit(id, { message, source, files: changes.files, sha });
    const done = supervisor.complete(id);
    return {
      agent: done,
      commit: { sha, message, source, files: changes.files, toplevel: changes.toplevel },
    };
  }

  /** The commit message for an agent's changes: the commit shadow's, waited for a while. */
  async #messageFor(agent: Agent, files: string[] | null): Promise<CommitRecord> {
    const pending = this.#commitTasks.get(agent.id);
    if (pending) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        pending,
        new Promise((r) => (timer = setTimeout(r, this.#o.settings.commitWaitMs))),
      ]).finally(() => clearTimeout(timer));
    }
    const proposal = this.#o.store.commitRecord(agent.id);
    if (
      proposal && proposal.source === "shadow" &&
      (files === null || sameFiles(proposal.files, files))
    ) {
      return proposal;
    }
    const changed = files ?? proposal?.files ?? [];
    return {
      message: fallbackCommitMessage(agent.name, changed),
      source: "fallback",
      shadow_id: null,
      files: changed,
      prepared_at: Date.now(),
      sha: null,
      committed_at: null,
    };
  }

  /**
   * Refuses when another main agent worked in the same tree since this one first started: from
   * its own first start to its newest output line (or now, while it is queued or running).
   */
  #assertAlone(agent: Agent, toplevel: string): void {
    const { store } = this.#o;
    const start = store.worktreeSnapshot(agent.id)!.taken_at;
    for (const other of store.worktreeNeighbours(agent.id, toplevel)) {
      if (other.kind === "shadow") continue;
      const active = other.status === "queued" || other.status === "running";
      const last = store.getAgent(other.agent_id)?.last_seq ?? 0;
      const lastLine = last > 0
        ? store.readMessages(other.agent_id, last - 1, 1)[0]?.ts
        : undefined;
      const otherEnd = Math.max(other.taken_at, lastLine ?? 0, other.finished_at ?? 0);
      if (active || otherEnd >= start) {
        throw new CommitRefusedError(
          "unrelated_changes",
          `Cannot commit: agent "${other.agent_id}" also worked in ${toplevel} during this agent's run, so the changes cannot be told apart; commit by hand`,
        );
      }
    }
  }
}

function sameFiles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}
