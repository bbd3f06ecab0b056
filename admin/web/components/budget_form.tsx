/**
 * An agent's budgets, editable from its page (`agent.set_budget`): a cost cap in USD and a turn
 * cap; an empty field clears that budget. Raising the budget of an agent paused at it continues
 * the same session (the server's rule); the page shows the updated agent at once. Validation is
 * the server's (bounds, sign): its refusal is shown as it is.
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { Agent } from "@hero/sdk";
import { upsertAgent } from "../state/agents.ts";
import { refreshExtras } from "../state/agent_extras.ts";
import { call, messageOf } from "../state/rpc.ts";

/** Editable unless the agent is gone for good. */
const FINAL: ReadonlySet<string> = new Set(["completed", "cancelled"]);

function figure(v: number | null): string {
  return v === null ? "" : String(v);
}

/** "" → null (clear), else the number. */
function parse(text: string): number | null {
  const t = text.trim();
  return t === "" ? null : Number(t);
}

export function BudgetForm({ agent }: { agent: Agent }) {
  const [cost, setCost] = useState(figure(agent.max_cost_usd));
  const [turns, setTurns] = useState(figure(agent.max_turns));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  // The server's figures win when they change elsewhere (the CLI, another tab).
  useEffect(() => setCost(figure(agent.max_cost_usd)), [agent.max_cost_usd]);
  useEffect(() => setTurns(figure(agent.max_turns)), [agent.max_turns]);
  if (FINAL.has(agent.status) || agent.kind === "shadow") return null;
  const atBudget = agent.status === "paused" && agent.pause_reason === "budget";

  async function save(e: Event) {
    e.preventDefault();
    // A number field holding text reads as "": that must not clear the budget.
    const bad = [...(e.currentTarget as HTMLFormElement).querySelectorAll("input")]
      .find((i) => i.validity.badInput);
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const maxCost = parse(cost);
      const maxTurns = parse(turns);
      if (bad || Number.isNaN(maxCost) || Number.isNaN(maxTurns)) {
        throw new Error(
          `Cannot set the budget: ${(bad?.name ??
            (Number.isNaN(maxCost) ? "max_cost_usd" : "max_turns"))} is not a number`,
        );
      }
      upsertAgent(
        await call("agent.set_budget", {
          id: agent.id,
          max_cost_usd: maxCost,
          max_turns: maxTurns,
        }),
      );
      setSaved(true);
      void refreshExtras();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="budget-form" data-testid="budget-form" onSubmit={save}>
      {atBudget
        ? (
          <p class="budget-note" role="status">
            Paused at its budget: raise or clear it to continue the same session.
          </p>
        )
        : null}
      <label>
        Max cost (USD){" "}
        <input
          name="max_cost_usd"
          type="number"
          step="0.01"
          inputMode="decimal"
          placeholder="none"
          value={cost}
          onInput={(e) => setCost(e.currentTarget.value)}
        />
      </label>
      <label>
        Max turns{" "}
        <input
          name="max_turns"
          type="number"
          step="1"
          inputMode="numeric"
          placeholder="none"
          value={turns}
          onInput={(e) => setTurns(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="button" disabled={busy}>
        {busy ? "Saving…" : "Save budget"}
      </button>
      {saved && !error ? <span class="meta" role="status">Saved.</span> : null}
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </form>
  );
}
