/**
 * Adopting sessions started elsewhere: Claude Code's own session files
 * (`<config dir>/projects/<sanitized cwd>/<session id>.jsonl`) become agents of kind `imported`.
 *
 * A file is read from its stored byte watermark with the bounded line splitter, so memory stays at
 * one batch (a few MiB) however large the file is; each batch of lines commits together with the
 * new watermark, so a re-import (or `--watch`) appends only what was written since and a crash
 * mid-import never stores a line twice. Malformed lines are counted and skipped; an unterminated
 * last line (a session still being written) waits for its newline.
 * @module
 */
import { ByteLineStream, LineTooLongError } from "../claude/mod.ts";
import { type Agent, fallbackTitle, newId, ValidationError } from "../models/mod.ts";
import {
  type AgentPatch,
  commitImportBatch,
  commitImportBatches,
  type ImportBatch,
  importedFile,
  type ImportedLine,
  isSupervisedSession,
  type Store,
} from "../store/mod.ts";

/** Options of {@linkcode importSessions}. */
export interface ImportSessionsOptions {
  store: Store;
  /** A session file, or a directory to look for them in. Default `<configDir>/projects`. */
  path?: string;
  /** Claude's config dir (`CLAUDE_CONFIG_DIR`, else `~/.claude`). */
  configDir: string;
  /** Longest line taken in; a longer one ends that file's import with an error. Default 64 MiB. */
  maxLineBytes?: number;
  /** A batch commits once it holds this many bytes of lines. Default 4 MiB. */
  batchBytes?: number;
  /** Called after every committed batch (the search indexer follows the new lines). */
  onCommit?: () => void;
}

/** What one import did. */
export interface ImportReport {
  /** Session files looked at. */
  files: number;
  /** Agents created for files seen for the first time. */
  created: number;
  /** Files left alone because a supervised agent owns their session (the ledger has it already). */
  supervised: number;
  /** Files whose imported agent was deleted: left alone. */
  deleted: number;
  /** Lines stored, and malformed lines skipped, by this import. */
  lines: number;
  malformed: number;
  /** Files that could not be imported (or only in part), with why. At most 100 listed. */
  errors: { path: string; message: string }[];
  /** Ids of the agents that got new lines (at most 1000 listed). */
  agents: string[];
}

const MAX_PROMPT_CHARS = 10_000;
const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
const MAX_LISTED_ERRORS = 100;
const MAX_LISTED_AGENTS = 1000;
const decoder = new TextDecoder("utf-8", { fatal: false });

/** `~/.claude` or `CLAUDE_CONFIG_DIR`, as the CLI resolves it. */
export function claudeConfigDir(env: { get(name: string): string | undefined }): string | null {
  const explicit = env.get("CLAUDE_CONFIG_DIR");
  if (explicit) return explicit;
  const home = env.get("HOME");
  return home ? `${home}/.claude` : null;
}

/** The directory name the CLI keeps a cwd's sessions under (`/a/b.c` → `-a-b-c`). */
export function sanitizedCwd(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, "-");
}

/** Imports every session file under `path` (or the one file it names). */
export async function importSessions(options: ImportSessionsOptions): Promise<ImportReport> {
  const report: ImportReport = {
    files: 0,
    created: 0,
    supervised: 0,
    deleted: 0,
    lines: 0,
    malformed: 0,
    errors: [],
    agents: [],
  };
  const root = options.path ?? `${options.configDir}/projects`;
  let files: string[];
  try {
    files = await sessionFiles(root);
  } catch (err) {
    throw new Error(`Cannot import sessions from "${root}": ${messageOf(err)}`, { cause: err });
  }
  const group = new CommitGroup(options, report);
  for (const file of files) {
    report.files++;
    try {
      await importFile(file, options, report, group);
    } catch (err) {
      failed(report, file, err);
    }
  }
  group.commit();
  return report;
}

function failed(report: ImportReport, path: string, err: unknown): void {
  if (report.errors.length < MAX_LISTED_ERRORS) {
    report.errors.push({ path, message: messageOf(err) });
  }
}

/** The last batches of small files, committed together (one transaction per group). */
class CommitGroup {
  #batches: { batch: ImportBatch; done: (agent: Agent) => void }[] = [];
  #bytes = 0;
  #o: ImportSessionsOptions;
  #report: ImportReport;

  constructor(options: ImportSessionsOptions, report: ImportReport) {
    this.#o = options;
    this.#report = report;
  }

  add(batch: ImportBatch, done: (agent: Agent) => void): void {
    this.#batches.push({ batch, done });
    for (const line of batch.lines) this.#bytes += line.bytes.byteLength;
    if (this.#bytes >= (this.#o.batchBytes ?? DEFAULT_BATCH_BYTES) || this.#batches.length >= 500) {
      this.commit();
    }
  }

  commit(): void {
    const group = this.#batches;
    this.#batches = [];
    this.#bytes = 0;
    if (group.length === 0) return;
    let agents: Agent[];
    try {
      agents = commitImportBatches(this.#o.store, group.map((g) => g.batch));
    } catch (err) {
      for (const g of group) failed(this.#report, g.batch.path, err);
      return;
    }
    group.forEach((g, i) => g.done(agents[i]!));
    this.#o.onCommit?.();
  }
}

/**
 * `root` itself when it is a file, else the `*.jsonl` files directly in it and one level below
 * (`projects/<cwd>/<session>.jsonl`), sorted. Deeper files (subagent sidechains) are not sessions.
 */
async function sessionFiles(root: string): Promise<string[]> {
  const info = await Deno.stat(root);
  if (info.isFile) return [await Deno.realPath(root)];
  const found: string[] = [];
  const base = await Deno.realPath(root);
  for await (const entry of Deno.readDir(base)) {
    const path = `${base}/${entry.name}`;
    if (entry.isFile && entry.name.endsWith(".jsonl")) found.push(path);
    else if (entry.isDirectory) {
      for await (const inner of Deno.readDir(path)) {
        if (inner.isFile && inner.name.endsWith(".jsonl")) found.push(`${path}/${inner.name}`);
      }
    }
  }
  return found.sort();
}

interface Pending {
  lines: ImportedLine[];
  bytes: number;
  malformed: number;
  /** Watermark after the last line taken (stored or skipped). */
  offset: number;
  patch: AgentPatch;
}

async function importFile(
  path: string,
  options: ImportSessionsOptions,
  report: ImportReport,
  group: CommitGroup,
): Promise<void> {
  const state = importedFile(options.store, path);
  const size = (await Deno.stat(path)).size;
  let offset = state?.byte_offset ?? 0;
  if (size < offset) {
    throw new Error(`the file is shorter than the ${offset} bytes already imported (rewritten?)`);
  }
  // Deleted from the ledger by its owner: left alone, not brought back.
  if (state && state.agent_id === null) {
    report.deleted++;
    return;
  }
  if (size === offset) return;
  const agent = state?.agent_id ? options.store.getAgent(state.agent_id) : undefined;
  const sessionId = state?.session_id ?? path.slice(path.lastIndexOf("/") + 1, -".jsonl".length);
  // The supervisor's own agents write session files too: their lines are stored already. That
  // includes an imported session once adopted: its file now grows with the supervised turns.
  if (isSupervisedSession(options.store, sessionId)) {
    report.supervised++;
    return;
  }
  let cost = agent?.total_cost_usd ?? 0;
  let created = state !== undefined;
  // Learnt from the lines of a new file before its agent exists.
  let cwd: string | null = null;
  let prompt: string | null = null;
  let firstTs: number | null = null;

  const file = await Deno.open(path, { read: true });
  try {
    if (offset > 0) {
      // The watermark must sit just after a newline: anything else means the file was rewritten.
      const probe = new Uint8Array(1);
      await file.seek(offset - 1, Deno.SeekMode.Start);
      if ((await file.read(probe)) !== 1 || probe[0] !== 0x0a) {
        throw new Error("the file no longer matches what was imported (rewritten?)");
      }
    }
    let pending: Pending = { lines: [], bytes: 0, malformed: 0, offset, patch: {} };
    // A batch mid-file commits at once; a file's last batch joins the group.
    const flush = (last: boolean) => {
      if (pending.offset === offset) return;
      const now = Date.now();
      const ts = firstTs ?? now;
      const batch: ImportBatch = {
        path,
        sessionId,
        fromOffset: offset,
        toOffset: pending.offset,
        lines: pending.lines,
        malformed: pending.malformed,
        create: {
          id: newId(),
          name: fallbackTitle(prompt ?? sessionId),
          prompt: prompt ?? "",
          cwd: cwd ?? path.slice(0, path.lastIndexOf("/")),
          model: typeof pending.patch.model === "string" ? pending.patch.model : "unknown",
          ts,
        },
        patch: { ...pending.patch, total_cost_usd: cost },
      };
      const isNew = !created;
      const done = (stored: Agent) => {
        if (isNew) report.created++;
        report.lines += batch.lines.length;
        report.malformed += batch.malformed;
        if (batch.lines.length > 0 && !report.agents.includes(stored.id)) {
          if (report.agents.length < MAX_LISTED_AGENTS) report.agents.push(stored.id);
        }
      };
      if (last) group.add(batch, done);
      else {
        done(commitImportBatch(options.store, batch));
        options.onCommit?.();
      }
      created = true;
      offset = pending.offset;
      pending = { lines: [], bytes: 0, malformed: 0, offset, patch: {} };
    };

    await file.seek(offset, Deno.SeekMode.Start);
    const lines = file.readable.pipeThrough(
      new ByteLineStream({ maxLineBytes: options.maxLineBytes }),
    );
    try {
      for await (const line of lines) {
        // A session still being written: its last line waits for its newline (the next import).
        if (line.eofNoNewline) break;
        pending.offset += line.bytes.byteLength + 1;
        if (line.bytes.byteLength === 0) continue;
        const value = parseObject(line.bytes);
        if (!value) {
          pending.malformed++;
          continue;
        }
        const ts = typeof value.timestamp === "string" ? Date.parse(value.timestamp) : NaN;
        const at = Number.isFinite(ts) ? ts : Date.now();
        if (Number.isFinite(ts)) {
          firstTs ??= ts;
          pending.patch.finished_at = ts;
        }
        if (cwd === null && typeof value.cwd === "string" && value.cwd.startsWith("/")) {
          cwd = value.cwd;
        }
        const message = value.message as Record<string, unknown> | undefined;
        if (prompt === null && value.type === "user" && message) {
          const text = promptText(message.content);
          if (text) prompt = text.slice(0, MAX_PROMPT_CHARS);
        }
        if (value.type === "assistant" && typeof message?.model === "string") {
          if (message.model !== "<synthetic>") pending.patch.model = message.model;
        }
        if (typeof value.costUSD === "number" && Number.isFinite(value.costUSD)) {
          cost += value.costUSD;
        }
        pending.lines.push({
          bytes: line.bytes,
          ts: at,
          type: typeof value.type === "string" ? value.type : null,
          subtype: typeof value.subtype === "string" ? value.subtype : null,
        });
        pending.bytes += line.bytes.byteLength;
        if (pending.bytes >= (options.batchBytes ?? DEFAULT_BATCH_BYTES)) flush(false);
      }
    } catch (err) {
      flush(true);
      if (err instanceof LineTooLongError) {
        throw new Error(`a line at byte ${offset} is longer than ${err.limit} bytes`);
      }
      throw err;
    }
    flush(true);
  } finally {
    try {
      file.close();
    } catch {
      // Already closed by its readable stream.
    }
  }
}

function parseObject(bytes: Uint8Array): Record<string, unknown> | null {
  try {
    const value = JSON.parse(decoder.decode(bytes));
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** The text a user line carries (a string or text blocks); empty for tool results. */
function promptText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.filter((b) => b?.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string).join("\n");
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options of {@linkcode SessionLedger}. */
export interface SessionLedgerOptions {
  store: Store;
  /** Claude's config dir whose `projects/` sessions are imported from; null: none known. */
  configDir: string | null;
  maxLineBytes?: number;
  onCommit?: () => void;
}

/** The daemon's importer: one import at a time, confined to `<configDir>/projects`. */
export class SessionLedger {
  #o: SessionLedgerOptions;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: SessionLedgerOptions) {
    this.#o = options;
  }

  /** `<configDir>/projects`, or null. */
  get projectsDir(): string | null {
    return this.#o.configDir === null ? null : `${this.#o.configDir}/projects`;
  }

  /**
   * Imports `path` (a session file or a folder of them inside the projects directory), or the
   * whole projects directory. Imports queue behind each other, so two never race on one file.
   * @throws {ValidationError} for a path outside the projects directory.
   */
  import(path?: string): Promise<ImportReport> {
    const run = this.#tail.then(() => this.#import(path));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #import(path: string | undefined): Promise<ImportReport> {
    const projects = this.projectsDir;
    if (projects === null) {
      throw new ValidationError(
        "invalid_params",
        "Cannot import sessions: neither CLAUDE_CONFIG_DIR nor HOME is set",
        "path",
      );
    }
    let real: string;
    let target: string;
    try {
      real = await Deno.realPath(projects);
      target = path === undefined ? real : await Deno.realPath(path);
    } catch (err) {
      throw new ValidationError(
        "invalid_params",
        `Cannot import sessions from "${path ?? projects}": ${messageOf(err)}`,
        "path",
      );
    }
    if (target !== real && !target.startsWith(`${real}/`)) {
      throw new ValidationError(
        "invalid_params",
        `Cannot import "${path}": only session files under ${projects} can be imported`,
        "path",
      );
    }
    return importSessions({
      store: this.#o.store,
      path: target,
      configDir: this.#o.configDir!,
      ...(this.#o.maxLineBytes ? { maxLineBytes: this.#o.maxLineBytes } : {}),
      ...(this.#o.onCommit ? { onCommit: this.#o.onCommit } : {}),
    });
  }
}
