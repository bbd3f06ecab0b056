/**
 * "Fork from here" on an assistant message: a small prompt box that starts a new agent whose
 * session is this one's up to that message (`agent.fork`), then links to it.
 * @module
 */
import { useState } from "preact/hooks";
import type { Agent } from "@hero/sdk";
import { upsertAgent } from "../state/agents.ts";
import { agentHref } from "../state/base.ts";
import { call, messageOf } from "../state/rpc.ts";

export function ForkBox({ agentId, seq }: { agentId: string; seq: number }) {
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState("");
  // "": the daemon decides (a fork of an isolated agent gets a worktree of its own).
  const [isolation, setIsolation] = useState<"" | "worktree" | "none">("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [forked, setForked] = useState<Agent | null>(null);

  async function fork(e?: Event) {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const agent = await call("agent.fork", {
        id: agentId,
        seq,
        prompt,
        ...(isolation ? { isolation } : {}),
      });
      upsertAgent(agent);
      setForked(agent);
      setPrompt("");
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button
        type="button"
        class="entry-fork"
        data-testid="fork-open"
        aria-label={`Fork from line ${seq}`}
        title="Start a new agent from this point of the conversation"
        onClick={() => setOpen(true)}
      >
        Fork from here
      </button>
    );
  }
  const id = `fork-${seq}`;
  return (
    <form class="fork-box" onSubmit={fork} noValidate data-testid="fork-box">
      <label for={id}>Fork from #{seq}: the new agent sees the conversation up to here</label>
      <textarea
        id={id}
        rows={2}
        value={prompt}
        placeholder="What should the fork do instead?"
        onInput={(e) => setPrompt(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void fork();
          if (e.key === "Escape") setOpen(false);
        }}
        aria-invalid={error ? true : undefined}
      />
      <label class="fork-isolation">
        Works in{" "}
        <select
          data-testid="fork-isolation"
          value={isolation}
          onChange={(e) => setIsolation(e.currentTarget.value as typeof isolation)}
        >
          <option value="">the default place</option>
          <option value="worktree">a git worktree of its own</option>
          <option value="none">the original's directory</option>
        </select>
      </label>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy || prompt === ""}>
          {busy ? "Forking…" : "Fork"}
        </button>
        <button type="button" class="button" onClick={() => setOpen(false)}>Cancel</button>
        {error ? <p class="form-error" role="alert">{error}</p> : null}
        {forked && !error
          ? (
            <p class="form-ok" role="status" data-testid="fork-done">
              Forked: <a href={agentHref(forked.id)}>{forked.name ?? forked.id}</a>
            </p>
          )
          : null}
      </div>
    </form>
  );
}
