/**
 * Island: the new-agent form (prompt, working directory with suggestions, model, effort,
 * permissions, priority, name).
 * Validation is the server's: its errors are shown next to the field they name.
 * @module
 */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import {
  type Agent,
  type AgentPermissionMode,
  type Effort,
  EFFORTS,
  type Priority,
} from "@hero/sdk";
import { displayName } from "../components/agent_card.tsx";
import { fieldOf } from "../components/errors.ts";
import { describedBy, Field } from "../components/field.tsx";
import {
  agentSignal,
  cwdFilter,
  ensureKnownCwds,
  knownCwds,
  refreshKnownCwds,
  upsertAgent,
} from "../state/agents.ts";
import { oneLine } from "../lib/sanitize.ts";
import { agentHref } from "../state/base.ts";
import { call, messageOf } from "../state/rpc.ts";
import { loadSystemInfo, systemInfo } from "../state/system.ts";

type Errors = Partial<Record<"prompt" | "cwd" | "model" | "effort" | "name" | "form", string>>;

/** The working directory this browser last started an agent in. */
const LAST_CWD_KEY = "hero_orchestrator:last-cwd";

function lastCwd(): string | null {
  try {
    return localStorage.getItem(LAST_CWD_KEY);
  } catch {
    return null; // storage disabled: no memory, no harm
  }
}

function rememberCwd(cwd: string): void {
  try {
    localStorage.setItem(LAST_CWD_KEY, cwd);
  } catch {
    // storage disabled
  }
}

/** `…/parent/name` of a long path, for a chip. */
function shortPath(path: string): string {
  const parts = path.split("/").filter(Boolean);
  return parts.length > 2 ? `…/${parts.slice(-2).join("/")}` : path;
}

function NewAgentForm({ initialCwd }: { initialCwd: string | null }) {
  const info = systemInfo.value;
  const [prompt, setPrompt] = useState("");
  // The dashboard's filter, else where this browser last started one; else the most recent one
  // the server knows, once its list arrives.
  const [cwd, setCwd] = useState(initialCwd ?? lastCwd() ?? "");
  const [model, setModel] = useState("");
  const [effort, setEffort] = useState("");
  const [mode, setMode] = useState("");
  const [priority, setPriority] = useState("");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Agent | null>(null);
  const promptRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    void loadSystemInfo();
    // The suggestions are every working directory the server knows (shared with the filter).
    void ensureKnownCwds().then(() => setCwd((c) => c || knownCwds.peek()[0] || ""));
  }, []);

  /** A field's message goes as soon as the field is edited: it described the old value. */
  function edited(key: keyof Errors): void {
    setErrors((e) => {
      if (!e[key] && !e.form) return e;
      const { [key]: _gone, form: _form, ...rest } = e;
      return rest;
    });
  }

  // Follow the dashboard's cwd filter while the person has not chosen a directory (a default is
  // not a choice).
  const filter = cwdFilter.value;
  const lastFilter = useRef(filter);
  const cwdChosen = useRef(false);
  useEffect(() => {
    if (
      filter !== lastFilter.current &&
      (!cwdChosen.current || cwd === "" || cwd === lastFilter.current)
    ) {
      setCwd(filter ?? lastCwd() ?? "");
    }
    lastFilter.current = filter;
  }, [filter]);

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.closest("input, textarea, select, [contenteditable]"));
      if (e.key === "n" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        promptRef.current?.focus();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  async function submit(e?: Event) {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    try {
      const agent = await call("agent.create", {
        prompt,
        cwd: cwd.trim(),
        ...(model ? { model } : {}),
        ...(effort ? { effort: effort as Effort } : {}),
        ...(mode ? { permission_mode: mode as AgentPermissionMode } : {}),
        ...(priority ? { priority: priority as Priority } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      upsertAgent(agent);
      rememberCwd(agent.cwd);
      refreshKnownCwds();
      setCreated(agent);
      setPrompt("");
      setName("");
    } catch (err) {
      const field = fieldOf(err);
      const key = field && ["prompt", "cwd", "model", "effort", "name"].includes(field)
        ? field as keyof Errors
        : "form";
      setErrors({ [key]: messageOf(err) });
      const el = document.getElementById(key === "form" ? "na-prompt" : `na-${key}`);
      el?.focus();
    } finally {
      setBusy(false);
    }
  }

  const models = info?.claude.models ?? [];
  const recent = knownCwds.value.filter((c) => c !== cwd.trim()).slice(0, 3);
  return (
    <form
      class="new-agent"
      onSubmit={submit}
      noValidate
      aria-labelledby="na-title"
      // Ctrl+Enter starts the agent from any field, not only the prompt.
      onKeyDown={(e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          void submit();
        }
      }}
    >
      <div class="panel-head">
        <h2 id="na-title">New agent</h2>
        <span class="hint">
          <kbd>n</kbd> to focus · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> to start
        </span>
      </div>
      <Field id="na-prompt" label="Prompt" error={errors.prompt} class="field-prompt">
        <textarea
          id="na-prompt"
          ref={promptRef}
          name="prompt"
          rows={3}
          value={prompt}
          placeholder="What should the agent do?"
          onInput={(e) => {
            setPrompt(e.currentTarget.value);
            edited("prompt");
          }}
          {...describedBy("na-prompt", errors.prompt)}
        />
      </Field>
      <div class="field-row">
        <Field
          id="na-cwd"
          label="Working directory"
          error={errors.cwd}
          hint="A folder on the server, inside the allowed roots"
          class="field-cwd"
        >
          <input
            id="na-cwd"
            name="cwd"
            type="text"
            list="na-cwd-list"
            autocomplete="off"
            spellcheck={false}
            value={cwd}
            placeholder="/home/me/project"
            onInput={(e) => {
              setCwd(e.currentTarget.value);
              cwdChosen.current = true;
              edited("cwd");
            }}
            {...describedBy("na-cwd", errors.cwd, true)}
          />
          <datalist id="na-cwd-list">
            {knownCwds.value.map((c) => <option key={c} value={c} />)}
          </datalist>
          {recent.length > 0
            ? (
              <div class="cwd-recent" data-testid="cwd-recent">
                <span class="hint">Recent:</span>
                {recent.map((c) => (
                  <button
                    key={c}
                    type="button"
                    class="chip"
                    title={c}
                    onClick={() => {
                      setCwd(c);
                      cwdChosen.current = true;
                      edited("cwd");
                    }}
                  >
                    {shortPath(c)}
                  </button>
                ))}
              </div>
            )
            : null}
        </Field>
        <Field id="na-model" label="Model" error={errors.model} class="field-model">
          <select
            id="na-model"
            name="model"
            value={model}
            onChange={(e) => {
              setModel(e.currentTarget.value);
              edited("model");
            }}
            {...describedBy("na-model", errors.model)}
          >
            <option value="">
              Default{info ? ` (${info.claude.default_model})` : ""}
            </option>
            {models.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </Field>
        <Field id="na-effort" label="Effort" error={errors.effort}>
          <select
            id="na-effort"
            name="effort"
            value={effort}
            onChange={(e) => {
              setEffort(e.currentTarget.value);
              edited("effort");
            }}
            {...describedBy("na-effort", errors.effort)}
          >
            <option value="">
              Default{info ? ` (${info.claude.default_effort})` : ""}
            </option>
            {EFFORTS.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        </Field>
        <Field id="na-mode" label="Permissions">
          <select
            id="na-mode"
            name="permission_mode"
            value={mode}
            onChange={(e) => setMode(e.currentTarget.value)}
          >
            <option value="">Run tools without asking (bypassPermissions)</option>
            <option value="acceptEdits">Ask before commands, accept edits (acceptEdits)</option>
            <option value="default">Ask before edits and commands (default)</option>
            <option value="plan">Plan only (plan)</option>
          </select>
        </Field>
        <Field id="na-priority" label="Priority">
          <select
            id="na-priority"
            name="priority"
            value={priority}
            onChange={(e) => setPriority(e.currentTarget.value)}
          >
            <option value="">Normal</option>
            <option value="high">High: starts before normal and low when a slot frees</option>
            <option value="low">Low: starts after high and normal</option>
          </select>
        </Field>
        <Field id="na-name" label="Name (optional)" error={errors.name}>
          <input
            id="na-name"
            name="name"
            type="text"
            autocomplete="off"
            value={name}
            maxLength={200}
            onInput={(e) => {
              setName(e.currentTarget.value);
              edited("name");
            }}
            {...describedBy("na-name", errors.name)}
          />
        </Field>
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? "Starting…" : "Start agent"}
        </button>
        {errors.form ? <p class="form-error" role="alert">{errors.form}</p> : null}
        {created && !errors.form ? <Outcome created={created} /> : null}
      </div>
    </form>
  );
}

/**
 * What became of the agent just submitted, followed live (the page's event stream updates its
 * signal): an agent that fails at spawn shows its error, not "Started".
 */
function Outcome({ created }: { created: Agent }) {
  const agent = agentSignal(created.id)?.value ?? created;
  const link = <a href={agentHref(agent.id)}>{displayName(agent)}</a>;
  if (agent.status === "failed") {
    return (
      <p class="form-error" role="alert" data-testid="form-outcome" data-status="failed">
        {link} failed:{" "}
        <span title={agent.error_message ?? undefined}>
          {oneLine(agent.error_message || agent.error_code || "no reason given", 400)}
        </span>
        {agent.error_fix
          ? <span class="form-fix" data-testid="error-fix">Fix: {agent.error_fix}</span>
          : null}
      </p>
    );
  }
  return (
    <p class="form-ok" role="status" data-testid="form-outcome" data-status={agent.status}>
      {agent.status === "queued" ? "Queued" : "Started"} {link}
    </p>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement, props: { cwd?: string | null }): void {
  render(<NewAgentForm initialCwd={props.cwd ?? null} />, el);
}
