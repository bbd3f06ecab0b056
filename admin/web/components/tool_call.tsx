/**
 * A tool call with its input and (once it arrived) its result, collapsed by default: Edit,
 * MultiEdit and Write as diffs, Bash as command and output, anything else as JSON.
 * @module
 */
import type { ComponentChild } from "preact";
import { oneLine } from "../lib/sanitize.ts";
import { Diff } from "./diff.tsx";
import { LongText } from "./long_text.tsx";

/** A tool result, paired with its call by id. */
export interface ToolResult {
  text: string;
  isError: boolean;
}

type Input = Record<string, unknown>;

function s(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** One-line summary of a call, by tool. */
export function toolSummary(name: string, input: Input): string {
  switch (name) {
    case "Bash":
      return oneLine(s(input.command), 160);
    case "Edit":
    case "MultiEdit":
    case "Write":
    case "Read":
    case "NotebookEdit":
      return oneLine(s(input.file_path) || s(input.notebook_path), 160);
    case "Grep":
    case "Glob":
      return oneLine(`${s(input.pattern)}${input.path ? ` in ${s(input.path)}` : ""}`, 160);
    case "WebFetch":
      return oneLine(s(input.url), 160);
    case "WebSearch":
      return oneLine(s(input.query), 160);
    case "Task":
    case "Agent":
      return oneLine(s(input.description) || s(input.prompt), 160);
    case "TodoWrite":
      return Array.isArray(input.todos) ? `${input.todos.length} todos` : "";
    default: {
      const first = Object.values(input).find((v) => typeof v === "string");
      return oneLine(s(first), 160);
    }
  }
}

/** A tool's input as the transcript shows it: Write/Edit as a diff, Bash as the command. */
export function InputView({ name, input }: { name: string; input: Input }): ComponentChild {
  switch (name) {
    case "Bash":
      return (
        <div class="tool-bash">
          {input.description ? <p class="tool-note">{oneLine(s(input.description), 300)}</p> : null}
          <LongText class="term term-command" text={`$ ${s(input.command)}`} />
        </div>
      );
    case "Edit":
      return (
        <div>
          <p class="tool-path">{oneLine(s(input.file_path), 500)}</p>
          <Diff before={s(input.old_string)} after={s(input.new_string)} />
        </div>
      );
    case "MultiEdit":
      return (
        <div>
          <p class="tool-path">{oneLine(s(input.file_path), 500)}</p>
          {(Array.isArray(input.edits) ? input.edits : []).map((e, i) => (
            <Diff
              key={i}
              before={s((e as Input)?.old_string)}
              after={s((e as Input)?.new_string)}
            />
          ))}
        </div>
      );
    case "Write":
      return (
        <div>
          <p class="tool-path">{oneLine(s(input.file_path), 500)}</p>
          <Diff before="" after={s(input.content)} />
        </div>
      );
    default:
      return <LongText class="json" text={JSON.stringify(input, null, 2)} />;
  }
}

/** A collapsible tool call. */
export function ToolCall(
  { name, input, result }: { name: string; input: Input; result: ToolResult | undefined },
) {
  const state = result === undefined ? "pending" : result.isError ? "error" : "ok";
  return (
    <details class={`tool tool-${state}`}>
      <summary>
        <span class="tool-icon" aria-hidden="true"></span>
        <span class="tool-name">{oneLine(name, 60)}</span>
        <span class="tool-summary">{toolSummary(name, input)}</span>
        <span class={`tool-state tool-state-${state}`}>
          {state === "pending" ? "running…" : state === "error" ? "error" : "done"}
        </span>
      </summary>
      <div class="tool-body">
        <InputView name={name} input={input} />
        {result === undefined
          ? <p class="tool-note">No result yet.</p>
          : (
            <div class={result.isError ? "tool-result tool-result-error" : "tool-result"}>
              <div class="tool-result-label">{result.isError ? "Error" : "Result"}</div>
              <LongText class={name === "Bash" ? "term" : ""} text={result.text || "(empty)"} />
            </div>
          )}
      </div>
    </details>
  );
}
