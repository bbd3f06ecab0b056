/**
 * The agent page's Review tab: the agent's changes against its base (`agent.diff`) as a file list
 * with +/− counts and one file's unified diff, navigable with the keyboard (j/k or ↓/↑ move
 * between files), and, for an isolated agent in review, "Approve & merge" (`agent.complete
 * {merge: true}`) and "Discard" (`agent.discard`, asking again before throwing unmerged work
 * away). A conflict lists its files (nothing changed then) and offers "Ask the agent to resolve"
 * (`agent.resolve_conflicts`). A click on a diff line comments on it; "Request changes" sends all
 * comments as one follow-up (file:line, the quoted line, the comment).
 * @module
 */
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Agent, type AgentDiff, DIFF_STATUS_LETTER, type DiffFile } from "@hero/sdk";
import { agentChanged } from "../state/agent_extras.ts";
import { upsertAgent } from "../state/agents.ts";
import { call, messageOf, RpcError } from "../state/rpc.ts";
import { cleanText } from "../lib/sanitize.ts";
import {
  changesPrompt,
  type DiffLine,
  numberDiffLines,
  type ReviewComment,
} from "../state/review_comments.ts";

/** Lines of one file's diff shown before "show all" (a huge diff never renders whole at once). */
const SHOWN_LINES = 2_000;

function Counts({ file }: { file: Pick<DiffFile, "binary" | "additions" | "deletions"> }) {
  if (file.binary) return <span class="diff-stat-bin">binary</span>;
  return (
    <span>
      <span class="diff-stat-add">+{file.additions}</span>{" "}
      <span class="diff-stat-del">−{file.deletions}</span>
    </span>
  );
}

const KIND_CLASS: Record<DiffLine["kind"], string> = {
  add: "diff-add",
  del: "diff-del",
  ctx: "diff-ctx",
  hunk: "diff-hunk",
  meta: "diff-meta",
};

/** The comment box under a diff line. */
function CommentBox(
  { onSave, onCancel }: { onSave: (text: string) => void; onCancel: () => void },
) {
  const [text, setText] = useState("");
  return (
    <form
      class="diff-comment-form"
      data-testid="comment-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) onSave(text);
      }}
    >
      <textarea
        rows={2}
        aria-label="Comment on this line"
        value={text}
        ref={(el) => el?.focus()}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") onCancel();
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && text.trim()) onSave(text);
          e.stopPropagation();
        }}
      />
      <button type="submit" class="button" data-action="save-comment" disabled={!text.trim()}>
        Comment
      </button>
      <button type="button" class="button" onClick={onCancel}>Cancel</button>
    </form>
  );
}

/**
 * A unified diff, one element per line, classed by kind. A click on a changed or context line
 * opens a comment box under it; saved comments show under their lines.
 */
function Patch({ path, text, truncated, comments, onComment, onRemove }: {
  path: string;
  text: string;
  truncated: boolean;
  comments: ReviewComment[];
  onComment: (comment: ReviewComment) => void;
  onRemove: (comment: ReviewComment) => void;
}) {
  const [all, setAll] = useState(false);
  const [draft, setDraft] = useState<number | null>(null);
  const raw = cleanText(text).split("\n");
  if (raw.at(-1) === "") raw.pop();
  const lines = numberDiffLines(raw);
  const shown = all ? lines : lines.slice(0, SHOWN_LINES);
  return (
    <div class="diff" data-testid="review-patch">
      <pre class="diff-lines">
        {shown.map((l, i) => {
          const commentable = l.line !== null;
          const here = comments.filter((c) =>
            c.line === l.line && c.removed === (l.kind === "del") && commentable
          );
          return (
            <Fragment key={i}>
              <div
                class={commentable ? `${KIND_CLASS[l.kind]} diff-commentable` : KIND_CLASS[l.kind]}
                data-line={l.line ?? undefined}
                title={commentable ? "Click to comment on this line" : undefined}
                onClick={commentable ? () => setDraft(i) : undefined}
              >
                {l.text || " "}
              </div>
              {here.map((c, j) => (
                <div key={`c${j}`} class="diff-comment" data-testid="review-comment">
                  <span>{c.text}</span>{" "}
                  <button type="button" class="link-button" onClick={() => onRemove(c)}>
                    remove
                  </button>
                </div>
              ))}
              {draft === i && l.line !== null
                ? (
                  <CommentBox
                    onCancel={() => setDraft(null)}
                    onSave={(t) => {
                      onComment({
                        path,
                        line: l.line!,
                        removed: l.kind === "del",
                        quote: l.text,
                        text: t,
                      });
                      setDraft(null);
                    }}
                  />
                )
                : null}
            </Fragment>
          );
        })}
      </pre>
      {lines.length > shown.length
        ? (
          <button type="button" class="link-button" onClick={() => setAll(true)}>
            Show all {lines.length} lines
          </button>
        )
        : null}
      {truncated
        ? <p class="placeholder">The diff is cut here (too large to show whole).</p>
        : null}
    </div>
  );
}

/** The Review tab of `agent`. */
export function Review({ agent }: { agent: Agent }) {
  const [diff, setDiff] = useState<AgentDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [patch, setPatch] = useState<{ path: string; text: string; truncated: boolean } | null>(
    null,
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string[] | null>(null);
  const [confirmForce, setConfirmForce] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [comments, setComments] = useState<ReviewComment[]>([]);

  useEffect(() => {
    let cancelled = false;
    call("agent.diff", { id: agent.id }).then((d) => {
      if (cancelled) return;
      setDiff(d);
      setError(null);
    }, (err) => !cancelled && setError(messageOf(err)));
    return () => {
      cancelled = true;
    };
  }, [agent.id, agent.status, agent.turn_count]);

  const file = diff?.files[selected];
  useEffect(() => {
    if (!file) return setPatch(null);
    let cancelled = false;
    call("agent.diff", { id: agent.id, path: file.path }).then((d) => {
      const p = d.files.find((f) => f.path === file.path)?.patch;
      if (!cancelled && p) setPatch(p);
    }, (err) => !cancelled && setError(messageOf(err)));
    return () => {
      cancelled = true;
    };
  }, [diff, file?.path]);

  function onKey(e: KeyboardEvent) {
    if (!diff || diff.files.length === 0) return;
    if (e.key === "j" || e.key === "ArrowDown") {
      setSelected((i) => Math.min(diff.files.length - 1, i + 1));
      e.preventDefault();
    } else if (e.key === "k" || e.key === "ArrowUp") {
      setSelected((i) => Math.max(0, i - 1));
      e.preventDefault();
    }
  }

  async function act(what: string, run: () => Promise<void>) {
    setBusy(what);
    setError(null);
    setConflict(null);
    setOutcome(null);
    try {
      await run();
    } catch (err) {
      if (err instanceof RpcError && err.reason === "merge_conflict") {
        const files = (err.data as { files?: unknown } | undefined)?.files;
        setConflict(Array.isArray(files) ? files.map(String) : []);
      } else if (err instanceof RpcError && err.reason === "unmerged_work") {
        setConfirmForce(true);
      } else setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  }

  const inReview = agent.status === "awaiting_review" && diff?.isolation === "worktree";
  const canAsk = agent.status === "awaiting_review" || agent.status === "failed";
  return (
    <section class="review" data-testid="review" onKeyDown={onKey}>
      {diff
        ? (
          <p class="review-summary" data-testid="review-summary">
            {diff.files.length} {diff.files.length === 1 ? "file" : "files"} changed,{" "}
            <Counts
              file={{ binary: false, additions: diff.additions, deletions: diff.deletions }}
            />
            {diff.branch ? <span class="mono">on {diff.branch}</span> : null}
          </p>
        )
        : error
        ? null
        : <p class="placeholder">Loading the changes…</p>}
      {inReview
        ? (
          <div class="actions">
            <button
              type="button"
              class="button button-primary"
              data-action="merge"
              disabled={busy !== null}
              onClick={() =>
                act("merge", async () => {
                  const { commit: _c, merge, ...done } = await call("agent.complete", {
                    id: agent.id,
                    merge: true,
                  });
                  upsertAgent(done);
                  agentChanged(done);
                  if (merge) {
                    setOutcome(
                      `Merged into ${merge.base_ref.replace("refs/heads/", "")} (${
                        merge.kind.replace("_", "-")
                      }) at ${merge.sha.slice(0, 12)}`,
                    );
                  }
                })}
            >
              {busy === "merge" ? "Merging…" : "Approve & merge"}
            </button>
            <button
              type="button"
              class="button button-danger"
              data-action="discard"
              disabled={busy !== null}
              onClick={() =>
                act("discard", async () => {
                  const done = await call("agent.discard", { id: agent.id, force: confirmForce });
                  upsertAgent(done);
                  agentChanged(done);
                  setConfirmForce(false);
                  setOutcome("Discarded: the worktree and branch were removed");
                })}
            >
              {confirmForce
                ? "Discard unmerged work"
                : busy === "discard"
                ? "Discarding…"
                : "Discard"}
            </button>
          </div>
        )
        : null}
      {comments.length > 0 && canAsk
        ? (
          <div class="actions">
            <button
              type="button"
              class="button"
              data-action="request-changes"
              disabled={busy !== null}
              onClick={() =>
                act("request", async () => {
                  const next = await call("agent.follow_up", {
                    id: agent.id,
                    prompt: changesPrompt(comments),
                  });
                  upsertAgent(next);
                  agentChanged(next);
                  setOutcome(
                    `Sent ${comments.length} ${
                      comments.length === 1 ? "comment" : "comments"
                    } to the agent as one follow-up`,
                  );
                  setComments([]);
                })}
            >
              {busy === "request" ? "Sending…" : `Request changes (${comments.length})`}
            </button>
          </div>
        )
        : null}
      {confirmForce
        ? (
          <p class="alert alert-warn" role="alert" data-testid="review-confirm">
            The branch or worktree holds work that is not merged. Press “Discard unmerged work” to
            throw it away.
          </p>
        )
        : null}
      {conflict
        ? (
          <div class="alert alert-error" role="alert" data-testid="review-conflict">
            <strong>merge_conflict</strong>: nothing changed. Conflicting files:{" "}
            {conflict.map((f) => <code key={f}>{f}</code>)}{" "}
            <button
              type="button"
              class="button"
              data-action="resolve"
              disabled={busy !== null}
              onClick={() =>
                act("resolve", async () => {
                  const { agent: next, conflicts } = await call("agent.resolve_conflicts", {
                    id: agent.id,
                  });
                  upsertAgent(next);
                  agentChanged(next);
                  setOutcome(
                    conflicts.length > 0
                      ? `Asked the agent to resolve ${conflicts.join(", ")}`
                      : "The base branch merged into the agent's branch cleanly; merge again",
                  );
                })}
            >
              {busy === "resolve" ? "Asking…" : "Ask the agent to resolve"}
            </button>
          </div>
        )
        : null}
      {outcome ? <p class="alert" role="status" data-testid="review-outcome">{outcome}</p> : null}
      {error ? <p class="alert alert-error" role="alert">{error}</p> : null}
      {diff && diff.files.length > 0
        ? (
          <div class="review-body">
            <ul class="review-files" role="listbox" tabIndex={0} aria-label="Changed files">
              {diff.files.map((f, i) => (
                <li
                  key={f.path}
                  role="option"
                  aria-selected={i === selected}
                  class={i === selected ? "review-file selected" : "review-file"}
                  data-path={f.path}
                  onClick={() => setSelected(i)}
                >
                  <span class="review-status">{DIFF_STATUS_LETTER[f.status]}</span>{" "}
                  <span class="mono">{f.old_path ? `${f.old_path} → ${f.path}` : f.path}</span>{" "}
                  <Counts file={f} />
                </li>
              ))}
            </ul>
            {patch && patch.path === file?.path
              ? (
                <Patch
                  key={patch.path}
                  path={patch.path}
                  text={patch.text}
                  truncated={patch.truncated}
                  comments={comments.filter((c) => c.path === patch.path)}
                  onComment={(c) => setComments((cs) => [...cs, c])}
                  onRemove={(c) => setComments((cs) => cs.filter((x) => x !== c))}
                />
              )
              : <p class="placeholder">Loading the diff…</p>}
          </div>
        )
        : null}
      {diff && diff.entangled.length > 0
        ? (
          <p class="placeholder">
            Not shown (already dirty when the agent started): {diff.entangled.join(", ")}
          </p>
        )
        : null}
    </section>
  );
}
