/**
 * Regenerates `sdk/testdata/real_cli/*.jsonl`: the stdout lines of the REAL claude CLI (the tested
 * version, `$HERO_ORCHESTRATOR_REAL_CLAUDE` or `claude` on PATH) run against the mock Anthropic API
 * with the supervisor's stream-json flags. `sdk/transcript_test.ts` parses them, so the display
 * parser is tested on what the CLI really prints, not on hand-written look-alikes. Nothing secret
 * is in them: the key, the endpoint and every answer come from the mock.
 *
 * `deno run -A tools/capture_transcripts.ts [--out DIR]`
 * @module
 */
import { parseArgs } from "node:util";
import {
  type MockRequest,
  realClaudeAvailable,
  sseResponse,
  startMockAnthropic,
  startRealClaude,
} from "@hero/core/testing";

/** One captured conversation: prompts sent one turn after the other. */
interface Conversation {
  file: string;
  prompts: string[];
  env?: Record<string, string>;
}

const TOOL_ERROR = "CORPUS_TOOL_ERROR";

/** Conversations of the corpus; the keywords pick the mock's scenarios. */
export const CONVERSATIONS: readonly Conversation[] = [
  { file: "plain.jsonl", prompts: ["say hello", "and once more"] },
  { file: "tools.jsonl", prompts: ["SCENARIO_TOOLS please"] },
  { file: "tool_error.jsonl", prompts: [`${TOOL_ERROR}: read missing.txt`] },
  { file: "api_error.jsonl", prompts: ["SCENARIO_HTTP_500"] },
  {
    file: "rate_limit.jsonl",
    prompts: ["SCENARIO_RATE_LIMIT_REJECTED"],
    // With OAuth auth the CLI reports the rejection as a rate_limit_event and stops at once.
    env: { ANTHROPIC_API_KEY: "", CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-mock" },
  },
];

function hasText(request: MockRequest, needle: string): boolean {
  return request.rawBody.includes(needle);
}

function lastMessageHasToolResult(request: MockRequest): boolean {
  const body = request.body as { messages?: Array<{ content?: unknown }> } | null;
  const last = body?.messages?.at(-1)?.content;
  return Array.isArray(last) && last.some((b) => b?.type === "tool_result");
}

/**
 * A failing Bash call, then a text answer: the mock's own scenarios have no tool that fails, and a
 * failed tool is what an `is_error` tool_result looks like.
 */
function toolErrorHandler(request: MockRequest) {
  const body = request.body as { stream?: boolean } | null;
  if (!request.path.endsWith("/v1/messages") || body?.stream !== true) return undefined;
  if (!hasText(request, TOOL_ERROR)) return undefined;
  if (lastMessageHasToolResult(request)) {
    return sseResponse({ blocks: [{ type: "text", text: "missing.txt does not exist" }] });
  }
  return sseResponse({
    blocks: [
      { type: "text", text: "Reading it." },
      { type: "tool_use", name: "Bash", input: { command: "cat missing.txt" } },
    ],
    stopReason: "tool_use",
  });
}

/** Runs one conversation and returns its stdout lines, as printed. */
export async function capture(conversation: Conversation, mockUrl: string): Promise<string[]> {
  // startRealClaude passes the stream-json flags, a model and bypassPermissions like the
  // supervisor; the supervisor also asks for the echo of every prompt it sends.
  await using proc = await startRealClaude({
    mockUrl,
    args: ["--replay-user-messages"],
    env: conversation.env,
  });
  for (const prompt of conversation.prompts) {
    await proc.send(prompt);
    await proc.nextResult(90_000);
  }
  await proc.closeStdin();
  await proc.status();
  return proc.lines.map((line) => JSON.stringify(line));
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const out = values.out ?? new URL("../sdk/testdata/real_cli", import.meta.url).pathname;
  if (!await realClaudeAvailable()) {
    console.error("error: Cannot capture transcripts: the real claude CLI is not available");
    Deno.exit(1);
  }
  await Deno.mkdir(out, { recursive: true });
  await using mock = await startMockAnthropic({ handler: toolErrorHandler });
  for (const conversation of CONVERSATIONS) {
    const lines = await capture(conversation, mock.url);
    await Deno.writeTextFile(`${out}/${conversation.file}`, lines.join("\n") + "\n");
    console.error(`Wrote ${conversation.file}: ${lines.length} lines`);
  }
}
