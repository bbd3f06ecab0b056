/**
 * THE contract: every JSON-RPC method once, as zod. The server's handler table is typed from it,
 * `tools/gen_openrpc.ts` turns it into `openrpc.json`, and the SDK is generated from that.
 * @module
 */
import { z } from "zod";
import { Agent, AgentKind, AgentStatus, Effort, HomeMcp, Message } from "../models/mod.ts";
import { MAX_KNOWN_CWDS, MAX_LIST_PAGE, MAX_MESSAGES_PAGE } from "./limits.ts";
import { CommitInfo, CompletedAgent, Isolation, MergeStrategy } from "./commit.ts";
import {
  CREATE_ISOLATION_PARAMS,
  DIFF_SPEC,
  DISCARD_SPEC,
  RESOLVE_CONFLICTS_SPEC,
} from "./review.ts";
// The schema file, not usage/mod.ts: the contract must not load the store or the poller.
import { UsagePeriod, UsageReport } from "../usage/schema.ts";
import { CredentialStatus, MAX_API_KEY_CHARS } from "./credential.ts";
import { BackupResult, OpenrpcDocument, SystemHealth, SystemInfo } from "./system.ts";
import { SearchPage, SearchStatus } from "./search.ts";
import * as quota from "./quota.ts";
import { AgentId, defineMethod, Prompt } from "./method_spec.ts";
import { LIVE_METHODS, LiveAgent } from "./live.ts";
import { APPROVAL_METHODS, CREATE_PERMISSION_PARAMS } from "./approval.ts";
export { defineMethod, type MethodSpec } from "./method_spec.ts";
export * from "./live.ts";
export * from "./approval.ts";

/** The agent kinds a caller may create (`shadow` agents are created by the daemon only). */
export const CreatableKind = z.enum(["standard", "planner"]).meta({ id: "CreatableKind" });

/** `agent.list` buckets: running = queued, running, paused; completed = completed, failed, cancelled. */
export const AgentBucket = z.enum(["running", "awaiting_review", "completed"]).meta({
  id: "AgentBucket",
});
export type AgentBucket = z.infer<typeof AgentBucket>;

/** Statuses each bucket stands for. */
export const BUCKET_STATUSES: Readonly<Record<AgentBucket, readonly AgentStatus[]>> = {
  running: ["queued", "running", "paused"],
  awaiting_review: ["awaiting_review"],
  completed: ["completed", "failed", "cancelled"],
};

export const AgentPage = z.object({
  agents: z.array(Agent).describe("newest first"),
  next_cursor: z.string().nullable().describe(
    "pass as `cursor` for the next page; null at the end",
  ),
}).meta({ id: "AgentPage" });
export type AgentPage = z.infer<typeof AgentPage>;

export const MessagePage = z.object({
  messages: z.array(Message).describe("in seq order"),
  next_seq: z.number().int().describe(
    "pass as `after_seq` to continue forwards (the last seq of the page)",
  ),
  has_more: z.boolean().describe("more messages were stored after this page when it was read"),
  has_older: z.boolean().describe(
    "messages are stored before this page; pass the page's first seq as `before_seq` to read them",
  ),
}).meta({ id: "MessagePage" });
export type MessagePage = z.infer<typeof MessagePage>;

export const KnownCwd = z.object({
  cwd: z.string(),
  count: z.number().int().describe("agents created in it (shadow agents not counted)"),
  last_used_at: z.number().int().describe(
    "when the newest of them was created, Unix epoch milliseconds",
  ),
}).meta({ id: "KnownCwd" });
export type KnownCwd = z.infer<typeof KnownCwd>;

export const KnownCwds = z.object({
  cwds: z.array(KnownCwd).describe(
    `most recently used first (then by path), at most ${MAX_KNOWN_CWDS}`,
  ),
}).meta({ id: "KnownCwds" });
export type KnownCwds = z.infer<typeof KnownCwds>;

export const DeleteResult = z.object({
  id: z.string(),
  deleted: z.literal(true),
}).meta({ id: "DeleteResult" });
export type DeleteResult = z.infer<typeof DeleteResult>;

export const MessageEventData = z.object({
  agent_id: z.string(),
  seq: z.number().int(),
  ts: z.number().int().describe("receive time, Unix epoch milliseconds"),
  type: z.string().nullable(),
  subtype: z.string().nullable(),
  parse_error: z.boolean(),
  byte_length: z.number().int(),
  raw: z.string().nullable().describe(
    "the line; null when longer than the inline limit (read it with agent.messages)",
  ),
  truncated: z.boolean().describe("true when `raw` was left out for size"),
}).meta({ id: "MessageEventData" });
export type MessageEventData = z.infer<typeof MessageEventData>;

/**
 * `data` of an SSE `agent_deleted` event: the agent and its lines are gone (a tombstone, stored
 * and replayed like every event).
 */
export const AgentDeletedEventData = z.object({
  id: z.string().describe("the deleted agent's id"),
  deleted_at: z.number().int().describe("Unix epoch milliseconds"),
}).meta({ id: "AgentDeletedEventData" });
export type AgentDeletedEventData = z.infer<typeof AgentDeletedEventData>;

const idParams = z.strictObject({ id: AgentId });

/** Every method, by name. */
export const METHODS = {
  "agent.create": defineMethod({
    name: "agent.create",
    summary: "Create an agent: run claude on a prompt in a working directory",
    description:
      "The agent is stored `queued` and starts when a slot is free. `cwd` must be absolute, exist, be a directory and (after resolving symlinks) lie outside the daemon's own directories and inside the allowed roots when configured. A `planner` runs in claude's plan permission mode; follow it up with `execute: true` to carry the plan out. With `home_mcp = S`, claude gets one HTTP MCP server, S, at the hero_router gateway for S, with the request's `X-Hero-Context` header (stored on the agent as `hero_context`); `cwd` may then be left out to use the server's default working directory for S.",
    params: z.strictObject({
      prompt: Prompt,
      cwd: z.string().min(1).max(4096).optional().describe(
        "absolute working directory; required unless home_mcp has a server-side default",
      ),
      model: z.string().min(1).max(200).optional().describe(
        "model id (see system.info claude.models); default claude-sonnet-4-6",
      ),
      effort: Effort.optional().describe("thinking effort; default medium"),
      name: z.string().max(200).nullable().optional().describe("display name"),
      kind: CreatableKind.optional().describe("default standard"),
      home_mcp: HomeMcp.optional().describe(
        "the Hero service (e.g. hero_books) whose hero_router MCP gateway the agent gets",
      ),
      voice: z.boolean().default(false).describe(
        "a spoken turn: the reply is asked to read well aloud",
      ),
      ...CREATE_PERMISSION_PARAMS,
      ...quota.CREATE_QUOTA_PARAMS,
      ...CREATE_ISOLATION_PARAMS,
    }),
    result: Agent,
    errors: [
      "invalid_isolation",
      "invalid_cwd",
      "invalid_model",
      "invalid_effort",
      "invalid_prompt",
      "invalid_home_mcp",
      "busy",
    ],
    fieldErrors: {
      prompt: "invalid_prompt",
      cwd: "invalid_cwd",
      model: "invalid_model",
      effort: "invalid_effort",
      home_mcp: "invalid_home_mcp",
    },
  }),
  "agent.get": defineMethod({
    name: "agent.get",
    summary: "Get one agent",
    params: idParams,
    result: LiveAgent,
    errors: ["not_found"],
  }),
  "agent.list": defineMethod({
    name: "agent.list",
    summary: "List agents, newest first, with keyset pagination",
    description:
      "Filters combine with AND; `status` and `bucket` together select the statuses in both.",
    params: z.strictObject({
      cwd: z.string().min(1).max(4096).optional().describe("only agents in this working directory"),
      status: z.array(AgentStatus).max(6).optional().describe("only these statuses"),
      bucket: AgentBucket.optional(),
      kind: z.array(AgentKind).max(4).optional().describe(
        "only these kinds; with `bucket` and no `kind`, shadow agents are left out",
      ),
      parent_id: AgentId.optional().describe("only children of this agent (e.g. its shadows)"),
      limit: z.number().int().min(1).max(MAX_LIST_PAGE).default(50),
      cursor: z.string().min(1).max(256).optional().describe("`next_cursor` of the previous page"),
    }),
    result: AgentPage,
    errors: [],
  }),
  "agent.messages": defineMethod({
    name: "agent.messages",
    summary: "Read an agent's stored output lines in seq order",
    description:
      "Returns messages with seq > after_seq (the oldest of them), or with `before_seq` the newest messages with seq < before_seq; either way in seq order, at most `limit` and at most ~4 MiB of raw lines (always at least one when there is one; reading backwards, the lines nearest before_seq are kept). `after_seq` and `before_seq` are mutually exclusive. Newest screen: `before_seq = last_seq + 1`; the page before: `before_seq = messages[0].seq` while `has_older`.",
    params: z.strictObject({
      id: AgentId,
      after_seq: z.number().int().min(0).optional().describe(
        "read forwards from after this seq; default 0 (the start)",
      ),
      before_seq: z.number().int().min(1).optional().describe(
        "read backwards: the newest messages with seq < before_seq",
      ),
      limit: z.number().int().min(1).max(MAX_MESSAGES_PAGE).default(200),
    }).refine((p) => p.after_seq === undefined || p.before_seq === undefined, {
      message: "after_seq and before_seq are mutually exclusive",
      path: ["before_seq"],
    }),
    result: MessagePage,
    errors: ["not_found"],
  }),
  "agent.cwds": defineMethod({
    name: "agent.cwds",
    summary: "The working directories agents ran in, most recently used first",
    description:
      `At most ${MAX_KNOWN_CWDS}, each with how many agents used it and when the newest of them was created. Shadow agents are not counted (like the \`agent.list\` buckets).`,
    params: z.strictObject({}),
    result: KnownCwds,
    errors: [],
  }),
  "agent.cancel": defineMethod({
    name: "agent.cancel",
    summary: "Cancel a queued or running agent; answers once it and its processes are gone",
    params: idParams,
    result: Agent,
    errors: ["not_found", "invalid_state"],
  }),
  "agent.pause": defineMethod({
    name: "agent.pause",
    ...quota.QUOTA_DOCS.pause,
    params: idParams,
    result: Agent,
    errors: ["not_found", "invalid_state"],
  }),
  "agent.resume": defineMethod({
    name: "agent.resume",
    ...quota.QUOTA_DOCS.resume,
    params: idParams.extend(quota.RESUME_EXTRA_PARAMS),
    result: Agent,
    errors: ["not_found", "invalid_state", "busy"],
  }),
  "agent.set_budget": defineMethod({
    name: "agent.set_budget",
    ...quota.QUOTA_DOCS.set_budget,
    params: idParams.extend(quota.SET_BUDGET_PARAMS),
    result: Agent,
    errors: ["not_found"],
  }),
  "agent.complete": defineMethod({
    name: "agent.complete",
    summary: "Accept an agent's work: awaiting_review → completed",
    description:
      "With `commit: true`, first commits the files the agent changed since its first start (in the git work tree it started in) with the commit shadow's conventional commit message (or a fixed one), and records the sha. Other uncommitted changes stay as they were. Refused with commit_refused, changing nothing, when the tree has conflicts, HEAD moved, a changed file already had uncommitted changes at the start, another agent worked in the same tree meanwhile, or nothing changed. With `merge: true` (isolated agents), commits what is uncommitted in the agent's worktree, then brings its branch into the base branch: fast-forward when possible, else `strategy`; the base ref moves only when the merge succeeded (compare-and-swap), a checkout of the base branch follows it, and the worktree and branch are removed. Conflicts: merge_conflict with `data.files`, the base branch unchanged. Local changes in a checkout of the base branch that the merge would touch: merge_refused. Nothing is ever pushed.",
    params: z.strictObject({
      id: AgentId,
      commit: z.boolean().default(false).describe("commit the agent's changes first"),
      merge: z.boolean().default(false).describe(
        "isolated agents: merge the agent's branch into its base branch",
      ),
      strategy: MergeStrategy.optional(),
    }),
    result: CompletedAgent,
    errors: ["not_found", "invalid_state", "commit_refused", "merge_conflict", "merge_refused"],
  }),
  "agent.diff": defineMethod({ name: "agent.diff", ...DIFF_SPEC }),
  "agent.resolve_conflicts": defineMethod({
    name: "agent.resolve_conflicts",
    ...RESOLVE_CONFLICTS_SPEC,
  }),
  "agent.discard": defineMethod({ name: "agent.discard", ...DISCARD_SPEC }),
  "agent.commit_info": defineMethod({
    name: "agent.commit_info",
    summary: "The recorded git state and the proposed commit message of an agent",
    params: idParams,
    result: CommitInfo,
    errors: ["not_found"],
  }),
  "agent.follow_up": defineMethod({
    name: "agent.follow_up",
    summary: "Continue an agent's claude session with a new prompt",
    description:
      "An alias of agent.send that answers the agent. Allowed from awaiting_review and failed (and while a turn runs in a live process: then the prompt is queued). A live process takes the prompt at once; otherwise the stored session is resumed (`--resume`) in a new process; messages continue the same seq. For a planner, `execute: true` leaves plan mode to carry the plan out.",
    params: z.strictObject({
      id: AgentId,
      prompt: Prompt,
      execute: z.boolean().default(false).describe("planner: run the plan in the normal mode"),
      voice: z.boolean().default(false).describe(
        "a spoken turn: the reply is asked to read well aloud",
      ),
    }),
    result: Agent,
    errors: ["not_found", "invalid_state", "invalid_prompt", "busy"],
    fieldErrors: { prompt: "invalid_prompt" },
  }),
  ...LIVE_METHODS,
  "agent.fork": defineMethod({
    name: "agent.fork",
    summary: "A new agent continuing another's claude session from one of its messages",
    description:
      "The new agent's session is the original's up to and including the stored line `seq` (a user or assistant message), under a new session id (`--resume --fork-session --resume-session-at`): the original session is never changed. It has the original's cwd, model, effort and kind, and starts with `prompt`. With `isolation: worktree` (the default for a fork of an isolated agent; otherwise HERO_ORCHESTRATOR_ISOLATION decides, as for agent.create) it gets a git worktree and branch of its own from HEAD or `base_ref`.",
    params: z.strictObject({
      id: AgentId,
      seq: z.number().int().min(1).describe("the stored line to fork after (included)"),
      prompt: Prompt,
      name: z.string().max(200).nullable().optional().describe("default: Fork of <name> at #seq"),
      isolation: Isolation.optional().describe(
        "where the fork works; default: worktree for a fork of an isolated agent, else as agent.create",
      ),
      base_ref: z.string().min(1).max(1000).optional().describe(
        "isolation worktree: the branch (or commit) the fork's branch starts from; default HEAD",
      ),
    }),
    result: Agent,
    errors: [
      "not_found",
      "invalid_state",
      "invalid_prompt",
      "invalid_cwd",
      "invalid_isolation",
      "busy",
    ],
    fieldErrors: { prompt: "invalid_prompt" },
  }),
  "agent.delete": defineMethod({
    name: "agent.delete",
    summary: "Delete a terminal agent and its messages",
    description:
      "An isolated agent's worktree and branch go with it; refused with unmerged_work when they hold work not in the base branch, unless `force`.",
    params: z.strictObject({
      id: AgentId,
      force: z.boolean().default(false).describe("also throw unmerged work away"),
    }),
    result: DeleteResult,
    errors: ["not_found", "invalid_state", "unmerged_work"],
  }),
  "agent.export": defineMethod({
    name: "agent.export",
    summary: "Where to download an agent's transcript as JSONL (verbatim) or Markdown",
    description:
      "The export itself streams from `GET <path>` on the same socket (and through the admin): JSONL is every stored line byte for byte, each followed by its newline; Markdown has the prompts, answers, thinking and tool calls folded as code blocks, each turn's outcome and a cost summary. Both stop at the `last_seq` given here, so a running agent's export is a consistent prefix.",
    params: z.strictObject({
      id: AgentId,
      format: z.enum(["jsonl", "markdown"]).default("jsonl"),
    }),
    result: z.object({
      path: z.string().describe("absolute path of the download on this socket"),
      filename: z.string(),
      content_type: z.string(),
      last_seq: z.number().int().describe("the export holds the stored lines up to this seq"),
    }).meta({ id: "AgentExport" }),
    errors: ["not_found"],
  }),
  ...APPROVAL_METHODS,
  "search.query": defineMethod({
    name: "search.query",
    summary: "Full-text search over prompts, answers, tool calls and agent names",
    description:
      'Query syntax: words (all must match, case and accents ignored), `"a phrase"`, `prefix*`, `-word` or `-"a phrase"` to leave lines out. A query that breaks the syntax (an unclosed quote, only exclusions, no words) is invalid params. Lines are searchable shortly after they are stored (`search.status`). Thinking is searched only when the daemon indexes it (HERO_ORCHESTRATOR_SEARCH_THINKING=1).',
    params: z.strictObject({
      q: z.string().min(1).max(1000).describe("the query"),
      cwd: z.string().min(1).max(4096).optional().describe("only agents in this working directory"),
      status: z.array(AgentStatus).max(6).optional().describe("only agents in these statuses"),
      kind: z.array(AgentKind).max(4).optional().describe(
        "only agents of these kinds; without it, shadow agents are left out",
      ),
      since: z.number().int().min(0).optional().describe(
        "only lines received at or after, epoch ms",
      ),
      until: z.number().int().min(0).optional().describe("only lines received before, epoch ms"),
      limit: z.number().int().min(1).max(100).default(20),
      cursor: z.string().min(1).max(32).optional().describe("`next_cursor` of the previous page"),
    }),
    result: SearchPage,
    errors: [],
  }),
  "search.status": defineMethod({
    name: "search.status",
    summary: "How far the full-text index is, and (with `check`) whether it is sound",
    params: z.strictObject({
      check: z.boolean().default(false).describe(
        "run FTS5's integrity-check too (reads the whole index)",
      ),
    }),
    result: SearchStatus,
    errors: [],
  }),
  "search.rebuild": defineMethod({
    name: "search.rebuild",
    summary: "Recreate the full-text index from the stored lines (in the background)",
    params: z.strictObject({}),
    result: SearchStatus,
    errors: [],
  }),
  "session.import": defineMethod({
    name: "session.import",
    summary: "Adopt Claude Code sessions started elsewhere: import their session files",
    description:
      "Reads `<claude config dir>/projects/<sanitized cwd>/<session>.jsonl` files (the daemon's `CLAUDE_CONFIG_DIR`, else `~/.claude`) into the ledger as agents of kind `imported`: status `completed` (a finished transcript, never in a review lane), with their cwd, model, times and cost where the file has them. Idempotent: each file's byte watermark is kept, so calling again imports only lines appended since (call it repeatedly to follow live sessions). Malformed lines are counted and skipped; a last line without its newline waits for the next import. Imported lines are searchable. `agent.send` (or `agent.follow_up`) on an imported agent resumes that session id under supervision: the first starts a new supervised agent that owns the session from then on (a later import leaves the file alone), and later ones go to that agent.",
    params: z.strictObject({
      path: z.string().min(1).max(4096).optional().describe(
        "a session file or folder inside the projects directory; default: all of it",
      ),
    }),
    result: z.object({
      files: z.number().int().describe("session files looked at"),
      created: z.number().int().describe("agents created for files seen the first time"),
      supervised: z.number().int().describe(
        "files left alone: their session belongs to an agent this daemon runs (stored already)",
      ),
      deleted: z.number().int().describe("files left alone: their imported agent was deleted"),
      lines: z.number().int().describe("lines stored by this import"),
      malformed: z.number().int().describe("malformed lines skipped by this import"),
      errors: z.array(z.object({ path: z.string(), message: z.string() })).describe(
        "files not imported (or only in part) and why; at most 100",
      ),
      agents: z.array(z.string()).describe("agents that got lines; at most 1000"),
    }).meta({ id: "ImportReport" }),
    errors: [],
  }),
  "usage.get": defineMethod({
    name: "usage.get",
    summary: "Rate-limit headroom, token and cost usage, the OAuth usage poll and proxy state",
    description:
      "`rate_limit` is the newest `anthropic-ratelimit-*` snapshot the quota proxy recorded (per window: utilization, status, reset). `totals`/`agents` sum the CLI's own per-turn figures over `period`; `series` has hourly buckets over the last 24 hours; `oauth_poll` is the last reading of the OAuth usage endpoint (or why the poll is off). With `agent_id`, `agent` holds that agent's usage, the proxy's wire tally and its snapshots.",
    params: z.strictObject({
      period: UsagePeriod.default("24h"),
      agent_id: AgentId.optional().describe("add this agent's figures"),
    }),
    result: UsageReport,
    errors: ["not_found"],
  }),
  "credential.get": defineMethod({
    name: "credential.get",
    summary: "Which upstream credential the service uses, and where (never the secret)",
    params: z.strictObject({}),
    result: CredentialStatus,
    errors: [],
  }),
  "credential.set_api_key": defineMethod({
    name: "credential.set_api_key",
    summary: "Store (or with null, remove) the Anthropic API key the service uses",
    description:
      "The key is written mode 0600 to the service's key file and used from the next request on: the quota proxy injects it for proxied agents (who never see it), other agents get it as ANTHROPIC_API_KEY. It is never logged or returned. An environment ANTHROPIC_AUTH_TOKEN still takes precedence; a subscription login does not.",
    params: z.strictObject({
      api_key: z.string().min(1).max(MAX_API_KEY_CHARS).regex(/^[\x21-\x7e]+$/).nullable()
        .describe("the key (printable ASCII, no whitespace), or null to remove the stored one"),
    }),
    result: CredentialStatus,
    errors: [],
  }),
  "system.info": defineMethod({
    name: "system.info",
    summary: "Version, paths, limits and the claude binary",
    params: z.strictObject({}),
    result: SystemInfo,
    errors: [],
  }),
  "system.health": defineMethod({
    name: "system.health",
    summary: "Database, storage, supervisor and event-stream checks, and the claude readiness",
    params: z.strictObject({
      refresh: z.boolean().optional().describe(
        "check the claude readiness again now (binary, credential, upstream) instead of " +
          "returning the last result",
      ),
    }),
    result: SystemHealth,
    errors: [],
  }),
  "system.backup": defineMethod({
    name: "system.backup",
    summary: "Write an online backup of the database",
    description:
      "A consistent copy of the database (SQLite's online backup API), written while the daemon runs, to `path` or else to `<state dir>/backups/db-<UTC timestamp>.sqlite` (mode 0600). `path` must not exist and must be where the server may write (its state directory). Restore: stop the server, copy the backup over `db.sqlite` (removing `db.sqlite-wal` and `db.sqlite-shm`), start it.",
    params: z.strictObject({
      path: z.string().min(2).max(4096).startsWith("/").optional().describe(
        "absolute destination file; default a new file in the backups directory",
      ),
    }),
    result: BackupResult,
    errors: ["backup_failed"],
  }),
  "rpc.discover": defineMethod({
    name: "rpc.discover",
    summary: "The OpenRPC document of this service",
    params: z.strictObject({}),
    result: OpenrpcDocument,
    errors: [],
  }),
} as const;

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
/** Params after validation (defaults applied). */
export type ParamsOf<M extends MethodName> = z.output<Methods[M]["params"]>;
/** Params as a caller may send them. */
export type ParamsInput<M extends MethodName> = z.input<Methods[M]["params"]>;
export type ResultOf<M extends MethodName> = z.output<Methods[M]["result"]>;

/** Method names in contract order. */
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];
