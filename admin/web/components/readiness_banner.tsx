/**
 * The banner shown while agents cannot run here (or run on an untested claude): each problem the
 * server's readiness check found (`system.health`'s `claude`), with its one-line fix, and a
 * button that checks again after the operator fixed it.
 */
import { signal } from "@preact/signals";
import type { ClaudeReadiness } from "@hero/sdk";
import { call, messageOf } from "../state/rpc.ts";

/** The last readiness the page read (null before the first). */
export const readiness = signal<ClaudeReadiness | null>(null);
const checking = signal(false);
const checkError = signal<string | null>(null);

const NAMES = {
  binary: "claude CLI",
  credential: "Credential",
  root: "User",
  upstream: "Upstream API",
} as const;

/** The checks that need the operator, failures first. */
export function problemsOf(r: ClaudeReadiness) {
  const keys = ["binary", "credential", "root", "upstream"] as const;
  return [
    ...keys.filter((k) => r[k].status === "fail"),
    ...keys.filter((k) => r[k].status === "warn"),
  ].map((k) => ({ key: k, name: NAMES[k], ...r[k] }));
}

async function checkAgain(): Promise<void> {
  checking.value = true;
  checkError.value = null;
  try {
    readiness.value = (await call("system.health", { refresh: true })).claude;
  } catch (err) {
    checkError.value = messageOf(err);
  } finally {
    checking.value = false;
  }
}

/** Nothing when all is well; else the problems and their fixes. */
export function ReadinessBanner() {
  const r = readiness.value;
  if (!r) return null;
  const problems = problemsOf(r);
  if (problems.length === 0) return null;
  const blocking = !r.ok;
  return (
    <section
      class={`readiness ${blocking ? "readiness-fail" : "readiness-warn"}`}
      role={blocking ? "alert" : "status"}
      data-testid="readiness-banner"
    >
      <h2 class="readiness-title">
        {blocking ? "Agents cannot run yet" : "Agents can run, with a warning"}
      </h2>
      <ul class="readiness-list">
        {problems.map((p) => (
          <li key={p.key} class={`readiness-item readiness-${p.status}`} data-check={p.key}>
            <strong>{p.name}:</strong> {p.detail}
            {p.fix ? <div class="readiness-fix">Fix: {p.fix}</div> : null}
          </li>
        ))}
      </ul>
      <div class="readiness-actions">
        <button
          type="button"
          class="button button-quiet"
          disabled={checking.value}
          onClick={() => void checkAgain()}
        >
          {checking.value ? "Checking…" : "Check again"}
        </button>
        {checkError.value ? <span class="form-error">{checkError.value}</span> : null}
      </div>
    </section>
  );
}
