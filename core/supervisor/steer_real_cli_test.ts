/**
 * Steering a running turn with the real claude CLI (pinned 2.1.328) against the mock API.
 *
 * How the mechanism was chosen (each tried against the mock, a Bash tool call running while the
 * text was written): a user message with `priority: "next"` (or none) written while a tool runs
 * is taken into the SAME turn — the next /v1/messages request carries the tool_result and the text
 * in one user message, one `result` for the turn, no abort. `priority: "later"` waits for the
 * turn's result and runs as its own turn. `priority: "now"` aborts the running tool (result
 * `error_during_execution`), so it is interrupt + send. A `PostToolUse` hook registered through
 * `initialize` answering `hookSpecificOutput.additionalContext` also reached the next request,
 * but a turn with no tool call left would never deliver it, and the plain message needs no hook
 * round trip: steer = `priority: "next"`, queue = `priority: "later"`.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type MockAnthropic, type MockRequest, sseResponse } from "../testing/mod.ts";
import {
  type Harness,
  markedProcesses,
  waitFor,
  waitForStatus,
  withRealCliEngine,
} from "../engine/testing_harness.ts";

const MODEL = "claude-haiku-4-5";
const STEER = "STEER_TEXT_7 also mention bananas";

/**
 * `STEER_GATE`: (1) a Bash call that waits for the file `steer_go` in its cwd, so the test decides
 * when the tool boundary comes; (2) text `done`.
 */
function gateHandler(request: MockRequest): Response | undefined {
  const body = request.body as { stream?: boolean; model?: string; messages?: unknown[] } | null;
  if (!request.path.startsWith("/v1/messages") || !body?.stream) return undefined;
  const raw = JSON.stringify(body.messages ?? []);
  if (!raw.includes("STEER_GATE")) return undefined;
  const usage = { input_tokens: 1, output_tokens: 1 };
  if (!raw.includes("tool_result")) {
    return sseResponse({
      id: "msg_gate_1",
      model: body.model ?? MODEL,
      blocks: [{
        type: "tool_use",
        id: "toolu_gate_1",
        name: "Bash",
        input: {
          command: "while [ ! -f steer_go ]; do sleep 0.1; done; echo gate-open",
          description: "Wait for the gate",
        },
      }],
      stopReason: "tool_use",
      usage,
    });
  }
  return sseResponse({
    id: "msg_gate_2",
    model: body.model ?? MODEL,
    blocks: [{ type: "text", text: "done" }],
    stopReason: "end_turn",
    usage,
  });
}

function withSteerEngine(fn: (h: Harness, mock: MockAnthropic) => Promise<void>) {
  return withRealCliEngine({
    mock: { handler: gateHandler },
    env: { HERO_ORCHESTRATOR_SANDBOX: "bwrap", HERO_ORCHESTRATOR_SESSION_IDLE_MS: "120000" },
  }, fn);
}

function streamed(mock: MockAnthropic): MockRequest[] {
  return mock.messageRequests().filter((r) =>
    (r.body as { stream?: boolean } | null)?.stream === true &&
    JSON.stringify((r.body as { messages?: unknown }).messages).includes("STEER_GATE")
  );
}

function lines(h: Harness, id: string): Record<string, unknown>[] {
  return h.engine.store.readMessages(id, 0, 10_000).map((m) => JSON.parse(m.raw));
}

async function startGatedTurn(h: Harness, mock: MockAnthropic) {
  const a = h.engine.supervisor.create({ prompt: "STEER_GATE go", cwd: h.cwd, model: MODEL });
  await waitFor("the gated tool call", () => streamed(mock).length === 1, 60_000);
  await waitFor(
    "the Bash tool_use line",
    () => lines(h, a.id).some((v) => JSON.stringify(v).includes("toolu_gate_1")),
    60_000,
  );
  return a;
}

async function openGate(h: Harness, id: string): Promise<void> {
  // The CLI has read the message once it says it is queued; only then may the tool end.
  await waitFor(
    "the message queued by the CLI",
    () => lines(h, id).some((v) => v.type === "command_lifecycle" && v.state === "queued"),
    30_000,
  );
  await Deno.writeTextFile(`${h.cwd}/steer_go`, "");
}

/** The last user message of a request, as JSON text. */
function lastUserMessage(request: MockRequest): string {
  const messages = (request.body as { messages: { role: string }[] }).messages;
  return JSON.stringify(messages.filter((m) => m.role === "user").at(-1));
}

Deno.test("real CLI steer: the text reaches the very next API request of the running turn, no abort", async () => {
  await withSteerEngine(async (h, mock) => {
    const s = h.engine.supervisor;
    const a = await startGatedTurn(h, mock);
    const running = h.engine.store.getAgent(a.id)!;
    assertEquals(running.status, "running");
    assertEquals((await s.send(a.id, STEER, { steer: true })).delivery, "steered");
    await openGate(h, a.id);
    const done = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    const requests = streamed(mock);
    assertEquals(requests.length, 2, "one tool round trip, no extra turn");
    const next = lastUserMessage(requests[1]!);
    assert(next.includes("toolu_gate_1") && next.includes("gate-open"), next);
    assert(next.includes("STEER_TEXT_7"), `the steer text is with the tool result: ${next}`);
    assert(!lastUserMessage(requests[0]!).includes("STEER_TEXT_7"));
    assertEquals(
      requests[1]!.headers["x-claude-code-session-id"],
      requests[0]!.headers["x-claude-code-session-id"],
    );
    const results = lines(h, a.id).filter((v) => v.type === "result");
    assertEquals(results.map((r) => r.subtype), ["success"], "one turn, not aborted");
    assertEquals(done.pid, running.pid);
    assert((await markedProcesses([a.id])).includes(running.pid!), "the same process is alive");
  });
});

Deno.test("real CLI steer: a queued send waits for the turn's result and runs as its own turn", async () => {
  await withSteerEngine(async (h, mock) => {
    const s = h.engine.supervisor;
    const a = await startGatedTurn(h, mock);
    assertEquals((await s.send(a.id, "STEER_GATE queued words")).delivery, "queued");
    await openGate(h, a.id);
    const done = await waitFor("two results and review", () => {
      const agent = h.engine.store.getAgent(a.id)!;
      const results = lines(h, a.id).filter((v) => v.type === "result");
      return agent.status === "awaiting_review" && results.length === 2 ? agent : undefined;
    }, 60_000);
    assert(!lastUserMessage(streamed(mock)[1]!).includes("queued words"));
    assert(
      streamed(mock).at(-1) && lastUserMessage(streamed(mock).at(-1)!).includes("queued words"),
    );
    assert(s.isLive(done.id));
  });
});
