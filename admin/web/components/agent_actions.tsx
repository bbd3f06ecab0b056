/**
 * The agent page's actions: cancel (queued/running), complete and "complete & commit" (awaiting
 * review; the latter when the agent changed files in a git work tree), delete (terminal, with a
 * confirmation step), transcript downloads (Markdown, JSONL), interrupt (a running turn: the
 * session stays) and the message composer (running, awaiting review, failed: `agent.send` starts
 * a turn in the live process, queues it after the running turn, steers it into the running turn
 * at its next tool call, or resumes the session).
 * @module
 */
import { useState } from "preact/hooks";
import type { Agent, CommitMade } from "@hero/sdk";
import { agentChanged, commitInfo } from "../state/agent_extras.ts";
import { removeAgent, upsertAgent } from "../state/agents.ts";
import { agentHref, href } from "../state/base.ts";
import { call, messageOf, RpcError } from "../state/rpc.ts";
import { oneLine } from "../lib/sanitize.ts";
import { canCommit } from "./agent_extras.tsx";

/** Buttons for what the agent's status allows. */
export function AgentActions({ agent }: { agent: Agent }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [committed, setCommitted] = useState<CommitMade | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const commit = agent.status === "awaiting_review" && canCommit(commitInfo.value);
  const live = agent.status === "queued" || agent.status === "running";
  const terminal = agent.status === "completed" || agent.status === "failed" ||
    agent.status === "cancelled";

  async function act(what: string, run: () => Promise<void>) {
    setBusy(what);
    setError(null);
    setRefused(null);
    try {
      await run();
    } catch (err) {
      if (err instanceof RpcError && err.reason === "commit_refused") setRefused(err.message);
      else setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  }

  async function completeAndCommit() {
    const { commit: made, ...done } = await call("agent.complete", { id: agent.id, commit: true });
    setCommitted(made);
    upsertAgent(done);
    agentChanged(done);
  }

  const actions = (
    <div class="actions">
      {agent.status === "running"
        ? (
          <button
            type="button"
            class="button"
            data-action="interrupt"
            disabled={busy !== null}
            title="End the running turn; what it produced is kept and the next message continues the session"
            onClick={() =>
              act(
                "interrupt",
                async () => upsertAgent(await call("agent.interrupt", { id: agent.id })),
              )}
          >
            {busy === "interrupt" ? "Interrupting…" : "Interrupt"}
          </button>
        )
        : null}
      {live
        ? (
          <button
            type="button"
            class="button"
            data-action="pause"
            disabled={busy !== null}
            title="Stop the run cleanly and keep the session; resume it later"
            onClick={() =>
              act("pause", async () => upsertAgent(await call("agent.pause", { id: agent.id })))}
          >
            {busy === "pause" ? "Pausing…" : "Pause"}
          </button>
        )
        : null}
      {agent.status === "paused"
        ? (
          <button
            type="button"
            class="button button-primary"
            data-action="resume"
            disabled={busy !== null}
            onClick={() =>
              act("resume", async () => upsertAgent(await call("agent.resume", { id: agent.id })))}
          >
            {busy === "resume" ? "Resuming…" : "Resume"}
          </button>
        )
        : null}
      {live || agent.status === "paused"
        ? (
          <button
            type="button"
            class="button button-danger"
            disabled={busy !== null}
            onClick={() =>
              act("cancel", async () => upsertAgent(await call("agent.cancel", { id: agent.id })))}
          >
            {busy === "cancel" ? "Cancelling…" : "Cancel"}
          </button>
        )
        : null}
      {commit
        ? (
          <button
            type="button"
            class="button button-primary"
            data-action="commit"
            disabled={busy !== null}
            title="Commit the files this agent changed with the proposed message, then mark it complete"
            onClick={() => act("commit", completeAndCommit)}
          >
            {busy === "commit" ? "Committing…" : "Complete & commit"}
          </button>
        )
        : null}
      {agent.status === "awaiting_review"
        ? (
          <button
            type="button"
            class={`button ${commit ? "" : "button-primary"}`.trim()}
            data-action="complete"
            disabled={busy !== null}
            title={commit ? "Mark complete without committing" : undefined}
            onClick={() =>
              act("complete", async () => {
                const done = await call("agent.complete", { id: agent.id });
                upsertAgent(done);
                agentChanged(done);
              })}
          >
            {busy === "complete" ? "Completing…" : "Mark complete"}
          </button>
        )
        : null}
      {terminal && !confirmDelete
        ? (
          <button
            type="button"
            class="button button-quiet"
            disabled={busy !== null}
            onClick={() => setConfirmDelete(true)}
          >
            Delete…
          </button>
        )
        : null}
      {terminal && confirmDelete
        ? (
          <span class="confirm" role="group" aria-label="Confirm delete">
            <span>Delete this agent and its transcript?</span>
            <button
              type="button"
              class="button button-danger"
              disabled={busy !== null}
              autoFocus
              onClick={() =>
                act("delete", async () => {
                  await call("agent.delete", { id: agent.id });
                  removeAgent(agent.id);
                  location.assign(href("/"));
                })}
            >
              {busy === "delete" ? "Deleting…" : "Delete"}
            </button>
            <button
              type="button"
              class="button button-quiet"
              onClick={() => setConfirmDelete(false)}
            >
              Keep
            </button>
          </span>
        )
        : null}
      <span class="export-links" role="group" aria-label="Download the transcript">
        <a
          class="button button-quiet"
          data-export="markdown"
          href={href(`/export/${encodeURIComponent(agent.id)}.md`)}
          download
          title="A readable transcript: prompts, answers, tool calls and the cost"
        >
          Markdown
        </a>
        <a
          class="button button-quiet"
          data-export="jsonl"
          href={href(`/export/${encodeURIComponent(agent.id)}.jsonl`)}
          download
          title="Every line claude printed, byte for byte"
        >
          JSONL
        </a>
      </span>
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </div>
  );
  return (
    <>
      {actions}
      {refused || committed
        ? (
          <div class="action-notes">
            {refused
              ? (
                <p
                  class="alert alert-error commit-refused"
                  role="alert"
                  data-testid="commit-refused"
                >
                  {refused}
                </p>
              )
              : null}
            {committed
              ? (
                <p class="form-ok commit-done" role="status" data-testid="commit-done">
                  Committed{" "}
                  <code data-testid="commit-sha" title={committed.sha}>
                    {committed.sha.slice(0, 12)}
                  </code>
                  <span class="commit-subject" title={committed.message}>
                    {oneLine(committed.message.split("\n", 1)[0] ?? "", 200)}
                  </span>
                </p>
              )
              : null}
          </div>
        )
        : null}
    </>
  );
}

const DELIVERED: Record<string, string> = {
  started: "Sent.",
  queued: "Queued: it runs after the current turn.",
  steered: "Steering: it reads this at its next tool call, in this turn.",
  resumed: "Sent: the session resumes.",
};

/** The message composer (`agent.send`): works in review, after a failure and while running. */
export function FollowUp({ agent }: { agent: Agent }) {
  const [prompt, setPrompt] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  // An imported session continues as a new, supervised agent.
  const [continued, setContinued] = useState<Agent | null>(null);

  async function send(e?: Event, steer = false) {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const result = await call("agent.send", {
        id: agent.id,
        prompt,
        ...(steer ? { mode: "steer" as const } : {}),
      });
      upsertAgent(result.agent);
      if (result.agent.id !== agent.id) setContinued(result.agent);
      setPrompt("");
      setSent(DELIVERED[result.delivery] ?? "Sent.");
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="follow-up" onSubmit={send} noValidate>
      <label for="fu-prompt">
        {agent.kind === "imported" ? "Continue this session under supervision" : "Message"}
      </label>
      <textarea
        id="fu-prompt"
        rows={2}
        value={prompt}
        placeholder={agent.status === "failed"
          ? "Try again, or tell it what to change…"
          : agent.status === "running"
          ? "Send queues it as the next turn; Steer puts it into this one at the next tool call…"
          : "Ask for changes or the next step…"}
        onInput={(e) => {
          setPrompt(e.currentTarget.value);
          setSent(null);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void send();
        }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "fu-error" : "fu-hint"}
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? "Sending…" : "Send"}
        </button>
        {agent.status === "running"
          ? (
            <button
              type="button"
              class="button"
              data-action="steer"
              disabled={busy}
              title="The running turn reads it at its next tool call, without stopping"
              onClick={() => void send(undefined, true)}
            >
              Steer
            </button>
          )
          : null}
        <span class="hint" id="fu-hint">
          <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
        </span>
        {error ? <p class="form-error" id="fu-error" role="alert">{error}</p> : null}
        {sent && !error
          ? (
            <p class="form-ok" role="status" data-testid="sent">
              {continued
                ? (
                  <>
                    Continued as{" "}
                    <a href={agentHref(continued.id)}>
                      {continued.name ?? continued.id}
                    </a>
                  </>
                )
                : sent}
            </p>
          )
          : null}
      </div>
    </form>
  );
}
