/**
 * Live text (fake claude): `stream_event` text/thinking deltas reach an SSE subscriber as `delta`
 * events while the turn runs, before the assembled `assistant` line is stored; none of them is
 * stored, and a replay (`Last-Event-ID`) carries none.
 */
import assert from "node:assert/strict";
import { fakePrompt, type FakeStep } from "@hero/core/testing";
import { parseSse } from "@hero/sdk";
import { startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";

function delta(kind: "text" | "thinking", text: string, index: number): FakeStep {
  return {
    line: {
      type: "stream_event",
      event: {
        type: "content_block_delta",
        index,
        delta: kind === "text"
          ? { type: "text_delta", text }
          : { type: "thinking_delta", thinking: text },
      },
      session_id: "{{session_id}}",
      parent_tool_use_id: null,
      uuid: crypto.randomUUID(),
      api_message_id: "msg_live_1",
    },
  };
}

Deno.test("live text: deltas reach a subscriber before the assistant line is stored; none is stored", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  // Subscribed (live, no replay) before the agent exists, so no delta can be missed.
  const r = await d.fetch("http://localhost/events");
  const stream = parseSse(r.body!);
  const agent = await d.client.agent.create({
    prompt: fakePrompt({
      auto: true,
      steps: [
        {
          line: {
            type: "stream_event",
            event: { type: "message_start" },
            session_id: "{{session_id}}",
          },
        },
        delta("thinking", "Let me", 0),
        delta("text", "Hel", 1),
        delta("text", "lo, wor", 1),
        // The model is still "typing": the assistant line comes only after this pause.
        { sleep: 2_000 },
        delta("text", "ld", 1),
        { text: "Hello, world" },
      ],
    }),
    cwd: t.work,
  });
  const deltas: Array<Record<string, unknown>> = [];
  let assistantStoredAtSecondDelta: boolean | null = null;
  for await (const m of stream) {
    const data = JSON.parse(m.data);
    if (m.event === "delta") {
      deltas.push(data);
      if (deltas.length === 3) {
        const stored = await d.client.agent.messages({ id: agent.id });
        assistantStoredAtSecondDelta = stored.messages.some((x) => x.type === "assistant");
      }
    }
    if (m.event === "agent" && data.id === agent.id && data.status === "awaiting_review") break;
  }
  assert.deepEqual(
    deltas.map((x) => [x.kind, x.text, x.index, x.message_id, x.agent_id]),
    [
      ["thinking", "Let me", 0, "msg_live_1", agent.id],
      ["text", "Hel", 1, "msg_live_1", agent.id],
      ["text", "lo, wor", 1, "msg_live_1", agent.id],
      ["text", "ld", 1, "msg_live_1", agent.id],
    ],
  );
  assert.equal(assistantStoredAtSecondDelta, false, "deltas arrive before the assistant line");

  const stored = await d.client.agent.messages({ id: agent.id });
  assert.equal(stored.messages.filter((x) => x.type === "stream_event").length, 0);
  assert.equal(stored.messages.filter((x) => x.type === "assistant").length, 1);
  const done = await waitFor("review", async () => {
    const a = await d.client.agent.get({ id: agent.id });
    return a.status === "awaiting_review" ? a : undefined;
  });
  assert.equal(done.result, "Hello, world");

  // A replay from the start has the lines and the rows, never a delta.
  const replay = await d.fetch(`http://localhost/events?agent=${agent.id}&last_event_id=0`);
  const events: string[] = [];
  for await (const m of parseSse(replay.body!)) {
    events.push(m.event);
    if (m.event === "message" && JSON.parse(m.data).type === "result") break;
  }
  assert.ok(events.includes("message"));
  assert.ok(!events.includes("delta"));
});
