import assert from "node:assert/strict";
import type { Approval, DeltaEventData } from "@hero/sdk";
import { LiveText, PendingApprovals } from "./live.ts";

function delta(text: string, extra: Partial<DeltaEventData> = {}): DeltaEventData {
  return {
    agent_id: "a",
    message_id: "m1",
    index: 0,
    kind: "text",
    text,
    parent_tool_use_id: null,
    ...extra,
  };
}

Deno.test("LiveText: joins blocks in index order; a new message starts over", () => {
  const live = new LiveText();
  assert.equal(live.add(delta("Hel")), true);
  assert.equal(live.add(delta("lo")), true);
  assert.equal(live.add(delta("Second", { index: 2 })), true);
  assert.equal(live.text, "Hello\n\nSecond");
  live.add(delta("Next", { message_id: "m2" }));
  assert.equal(live.text, "Next");
  assert.equal(live.clear(), true);
  assert.equal(live.clear(), false, "nothing left to clear");
  assert.equal(live.text, "");
});

Deno.test("LiveText: thinking, a subagent's text and empty pieces are not shown", () => {
  const live = new LiveText();
  assert.equal(live.add(delta("hmm", { kind: "thinking" })), false);
  assert.equal(live.add(delta("sub", { parent_tool_use_id: "toolu_1" })), false);
  assert.equal(live.add(delta("")), false);
  assert.equal(live.text, "");
});

function approval(id: string, state: Approval["state"], created_at: number): Approval {
  return {
    id,
    agent_id: "a",
    tool_name: "Write",
    input: {},
    description: null,
    permission_suggestions: [],
    tool_use_id: null,
    created_at,
    state,
    answered_by: null,
    message: null,
    remember: null,
    answered_at: null,
  };
}

Deno.test("PendingApprovals: pending rows stay oldest first, answered ones leave", () => {
  const p = new PendingApprovals();
  p.apply([approval("b", "pending", 2), approval("a", "pending", 1)]);
  assert.deepEqual(p.list.map((x) => x.id), ["a", "b"]);
  p.apply([approval("a", "allowed", 1)]);
  assert.deepEqual(p.list.map((x) => x.id), ["b"]);
  p.reset([approval("c", "pending", 3), approval("d", "expired", 4)]);
  assert.deepEqual(p.list.map((x) => x.id), ["c"]);
});
