/**
 * Contract of live control: the live agent, `agent.send`, `agent.interrupt`, `agent.set_model` and
 * `agent.set_permission_mode` (spread into `METHODS` after `agent.follow_up`).
 * @module
 */
import { z } from "zod";
import { Agent, Approval } from "../models/mod.ts";
import { AgentId, defineMethod, Prompt } from "./method_spec.ts";
// The list the driver validates against (args.ts imports nothing heavier than a model type).
import { CLI_PERMISSION_MODES } from "../claude/args.ts";

const idParams = z.strictObject({ id: AgentId });

/** The permission modes of a live claude process (`set_permission_mode`). */
export const CliPermissionMode = z.enum(CLI_PERMISSION_MODES).meta({ id: "CliPermissionMode" });

/** An agent as answered by `agent.get` and the live-control methods: the row plus `live`. */
export const LiveAgent = Agent.extend({
  live: z.boolean().describe(
    "a claude process is attached and takes prompts on its stdin (a live session: agent.send starts the next turn in it at once); derived when answered, not stored",
  ),
  pending_approvals: z.array(Approval).describe(
    "permission prompts waiting for a person (approval.respond), oldest first",
  ),
}).meta({ id: "LiveAgent" });
export type LiveAgent = z.infer<typeof LiveAgent>;

/** What `agent.send` did with the prompt. */
export const SendResult = z.object({
  agent: LiveAgent,
  delivery: z.enum(["started", "queued", "steered", "resumed"]).describe(
    "started: a turn began at once in the live process; queued: the CLI runs it after the current turn; steered: the running turn takes it at its next tool boundary (a turn with no tool call left runs it next); resumed: a new process continues the session",
  ),
}).meta({ id: "SendResult" });
export type SendResult = z.infer<typeof SendResult>;

/**
 * `data` of an SSE `delta` event: text or thinking a running agent's model just wrote
 * (`--include-partial-messages`). Ephemeral: no event id, never stored or replayed, dropped first
 * for a slow reader; the assembled `assistant` line (a `message` event) follows and replaces it.
 */
export const DeltaEventData = z.object({
  agent_id: z.string(),
  message_id: z.string().nullable().describe("the API message the text belongs to"),
  index: z.number().int().describe("content block index within the message"),
  kind: z.enum(["text", "thinking"]),
  text: z.string().describe("the new piece, to append to the block's text so far"),
  parent_tool_use_id: z.string().nullable().describe("set for a subagent's text"),
}).meta({ id: "DeltaEventData" });
export type DeltaEventData = z.infer<typeof DeltaEventData>;

export const LIVE_METHODS = {
  "agent.send": defineMethod({
    name: "agent.send",
    summary: "Deliver a message to an agent now",
    description:
      "A live idle process (the agent in review, or failed, with `live: true`) starts the next turn at once in the same process (`delivery: started`). While a turn runs, the CLI queues the message as its next turn (`queued`; a `command_lifecycle` line with state `queued` is stored), or with `mode: steer` the running turn takes it at its next tool boundary without aborting (`steered`). With no process, the session is resumed in a new one (`resumed`), exactly as agent.follow_up. The prompt appears once in the transcript (the CLI's replay).",
    params: z.strictObject({
      id: AgentId,
      prompt: Prompt,
      execute: z.boolean().default(false).describe("planner: run the plan in the normal mode"),
      voice: z.boolean().default(false).describe(
        "a spoken turn: the reply is asked to read well aloud (always a new process)",
      ),
      mode: z.enum(["queue", "steer"]).default("queue").describe(
        "while a turn runs: queue = its own turn after the current one; steer = into the running turn at its next tool boundary (the model sees it with the tool results, no abort)",
      ),
    }),
    result: SendResult,
    errors: ["not_found", "invalid_state", "invalid_prompt", "busy"],
    fieldErrors: { prompt: "invalid_prompt" },
  }),
  "agent.interrupt": defineMethod({
    name: "agent.interrupt",
    summary: "Interrupt the running turn; the process and the session stay",
    description:
      "Sends the `interrupt` control request to the agent's live process and waits (bounded) for the turn to end. The agent goes to awaiting_review with what it produced stored; the next agent.send continues the same session (the model sees the partial text and `[Request interrupted by user]`). Not cancel: no process is killed. Needs a running turn in a live process (invalid_state otherwise).",
    params: idParams,
    result: LiveAgent,
    errors: ["not_found", "invalid_state", "busy"],
  }),
  "agent.set_model": defineMethod({
    name: "agent.set_model",
    summary: "Switch the model of an agent's live process",
    description:
      "The `set_model` control request; the model must be one of system.info claude.models (invalid_model otherwise, and nothing is sent). Needs a live process.",
    params: z.strictObject({
      id: AgentId,
      model: z.string().min(1).max(200).describe("a configured model id"),
    }),
    result: LiveAgent,
    errors: ["not_found", "invalid_state", "invalid_model", "busy"],
    fieldErrors: { model: "invalid_model" },
  }),
  "agent.set_permission_mode": defineMethod({
    name: "agent.set_permission_mode",
    summary: "Switch the permission mode of an agent's live process",
    description:
      "The `set_permission_mode` control request; any other mode is invalid params and nothing is sent. Needs a live process.",
    params: z.strictObject({
      id: AgentId,
      mode: CliPermissionMode,
    }),
    result: LiveAgent,
    errors: ["not_found", "invalid_state", "busy"],
  }),
} as const;
