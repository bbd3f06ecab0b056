import assert from "node:assert/strict";
import { MAX_PROVISIONAL_IDS, type UsageTotals, UsageTracker } from "./usage.ts";

interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

function assistant(id: string, usage: Usage, parent: string | null = null) {
  return {
    type: "assistant",
    message: {
      id,
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [{ type: "text", text: "…" }],
      stop_reason: null,
      usage,
    },
    parent_tool_use_id: parent,
    session_id: "sid",
    uuid: crypto.randomUUID(),
  };
}

function result(usage: Usage, numTurns: number, totalCostUsd: number) {
  return {
    type: "result",
    subtype: "success",
    is_error: false,
    usage,
    num_turns: numTurns,
    total_cost_usd: totalCostUsd,
    session_id: "sid",
  };
}

const ZERO: UsageTotals = {
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_creation_tokens: 0,
  total_cost_usd: 0,
  num_turns: 0,
  turn_count: 0,
};

Deno.test("UsageTracker counts a message printed as three content-block lines once", () => {
  const tracker = new UsageTracker();
  const usage = {
    input_tokens: 12,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 1,
  };
  assert.deepEqual(tracker.observe(assistant("msg_1", usage)), {
    ...ZERO,
    input_tokens: 12,
    output_tokens: 1,
  });
  assert.equal(tracker.observe(assistant("msg_1", usage)), null);
  assert.equal(tracker.observe(assistant("msg_1", usage)), null);
  assert.deepEqual(tracker.totals(), { ...ZERO, input_tokens: 12, output_tokens: 1 });
});

Deno.test("UsageTracker keeps the latest usage seen for a message id", () => {
  const tracker = new UsageTracker();
  tracker.observe(assistant("msg_1", { input_tokens: 12, output_tokens: 1 }));
  assert.deepEqual(tracker.observe(assistant("msg_1", { input_tokens: 12, output_tokens: 30 })), {
    ...ZERO,
    input_tokens: 12,
    output_tokens: 30,
  });
});

Deno.test("UsageTracker sums two messages of one turn and lets the result replace them", () => {
  const tracker = new UsageTracker();
  tracker.observe(assistant("msg_1", { input_tokens: 12, output_tokens: 1 }));
  tracker.observe(assistant("msg_1", { input_tokens: 12, output_tokens: 1 }));
  tracker.observe(
    assistant("msg_2", { input_tokens: 30, output_tokens: 1, cache_read_input_tokens: 10 }),
  );
  assert.deepEqual(tracker.totals(), {
    ...ZERO,
    input_tokens: 42,
    output_tokens: 2,
    cache_read_tokens: 10,
  });
  // The authoritative turn total (final output counts arrive only here).
  const totals = tracker.observe(result(
    {
      input_tokens: 42,
      output_tokens: 55,
      cache_read_input_tokens: 10,
      cache_creation_input_tokens: 5,
    },
    2,
    0.01,
  ));
  assert.deepEqual(totals, {
    input_tokens: 42,
    output_tokens: 55,
    cache_read_tokens: 10,
    cache_creation_tokens: 5,
    total_cost_usd: 0.01,
    num_turns: 2,
    turn_count: 1,
  });
  assert.deepEqual(tracker.totals(), totals);
});

Deno.test("UsageTracker takes the exact figures of the protocol doc's result line", () => {
  const tracker = new UsageTracker();
  tracker.observe(assistant("msg_1", { input_tokens: 12, output_tokens: 1 }));
  const line = JSON.parse(
    '{"duration_api_ms":52,"stop_reason":"end_turn","session_id":"<sid>","total_cost_usd":0.000042,' +
      '"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":6,' +
      '"output_tokens_details":{"thinking_tokens":0},"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},' +
      '"service_tier":"standard","cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"speed":"standard"},' +
      '"modelUsage":{"claude-haiku-4-5":{"inputTokens":12,"outputTokens":6,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,' +
      '"webSearchRequests":0,"costUSD":0.000042,"contextWindow":200000,"maxOutputTokens":32000}},' +
      '"permission_denials":[],"terminal_reason":"completed","is_error":false,"num_turns":1,"subtype":"success",' +
      '"api_error_status":null,"result":"Hello from mock2","ttft_ms":396,"type":"result","duration_ms":416,"uuid":"u",' +
      '"queued_turn_count":0,"result_index":0}',
  );
  assert.deepEqual(tracker.observe(line), {
    input_tokens: 12,
    output_tokens: 6,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    total_cost_usd: 0.000042,
    num_turns: 1,
    turn_count: 1,
  });
});

Deno.test("UsageTracker treats total_cost_usd as cumulative within one process", () => {
  const tracker = new UsageTracker();
  tracker.observe(result({ input_tokens: 10, output_tokens: 5 }, 1, 0.01));
  tracker.observe(assistant("msg_9", { input_tokens: 20, output_tokens: 1 }));
  const totals = tracker.observe(result({ input_tokens: 20, output_tokens: 7 }, 3, 0.025));
  assert.equal(totals?.total_cost_usd, 0.025);
  assert.equal(totals?.input_tokens, 30);
  assert.equal(totals?.output_tokens, 12);
  assert.equal(totals?.num_turns, 4);
  assert.equal(totals?.turn_count, 2);
});

Deno.test("UsageTracker adds the cost of a new process to the earlier processes' cost", () => {
  const tracker = new UsageTracker();
  tracker.startProcess();
  tracker.observe(result({ input_tokens: 10, output_tokens: 5 }, 1, 0.01));
  tracker.observe(result({ input_tokens: 20, output_tokens: 7 }, 1, 0.025));
  tracker.startProcess();
  assert.equal(tracker.totals().total_cost_usd, 0.025);
  const totals = tracker.observe(result({ input_tokens: 3, output_tokens: 2 }, 1, 0.004));
  assert.deepEqual(totals, {
    input_tokens: 33,
    output_tokens: 14,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    total_cost_usd: 0.029,
    num_turns: 3,
    turn_count: 3,
  });
});

Deno.test("UsageTracker starts from committed totals stored for the agent", () => {
  const tracker = new UsageTracker({
    input_tokens: 100,
    output_tokens: 50,
    total_cost_usd: 0.1,
    num_turns: 4,
    turn_count: 2,
  });
  assert.deepEqual(tracker.totals(), {
    ...ZERO,
    input_tokens: 100,
    output_tokens: 50,
    total_cost_usd: 0.1,
    num_turns: 4,
    turn_count: 2,
  });
  // A resumed process's cost starts from 0 on top of the committed cost (no startProcess needed).
  tracker.observe(result({ input_tokens: 12, output_tokens: 6 }, 1, 0.000042));
  tracker.startProcess();
  const totals = tracker.observe(result({ input_tokens: 1, output_tokens: 1 }, 1, 0.2));
  assert.deepEqual(totals, {
    ...ZERO,
    input_tokens: 113,
    output_tokens: 57,
    total_cost_usd: 0.1 + 0.200042,
    num_turns: 6,
    turn_count: 4,
  });
});

Deno.test("UsageTracker counts subagent messages by message id too", () => {
  const tracker = new UsageTracker();
  tracker.observe(assistant("msg_1", { input_tokens: 10, output_tokens: 1 }));
  tracker.observe(assistant("msg_sub", { input_tokens: 7, output_tokens: 1 }, "toolu_task_1"));
  assert.equal(
    tracker.observe(assistant("msg_sub", { input_tokens: 7, output_tokens: 1 }, "toolu_task_1")),
    null,
  );
  assert.deepEqual(tracker.totals(), { ...ZERO, input_tokens: 17, output_tokens: 2 });
});

Deno.test("UsageTracker ignores lines without usage and counts missing fields as 0", () => {
  const tracker = new UsageTracker();
  assert.equal(tracker.observe({ type: "system", subtype: "init" }), null);
  assert.equal(tracker.observe({ type: "user", message: { role: "user", content: [] } }), null);
  assert.equal(tracker.observe({ type: "assistant" }), null);
  assert.equal(tracker.observe({ type: "assistant", message: { id: "m", content: [] } }), null);
  assert.equal(tracker.observe(assistant("msg_0", {})), null);
  assert.deepEqual(tracker.observe(assistant("msg_1", { output_tokens: 3 })), {
    ...ZERO,
    output_tokens: 3,
  });
  assert.deepEqual(
    tracker.observe({ type: "result", usage: { input_tokens: "5", output_tokens: 4 } }),
    { ...ZERO, output_tokens: 4, turn_count: 1 },
  );
});

Deno.test("UsageTracker keeps the provisional usage of a turn cut short by a dying process", () => {
  const tracker = new UsageTracker();
  tracker.observe(result({ input_tokens: 10, output_tokens: 5 }, 1, 0.01));
  tracker.observe(assistant("msg_2", { input_tokens: 20, output_tokens: 1 }));
  tracker.startProcess(); // the process was killed before its result
  assert.deepEqual(tracker.totals(), {
    ...ZERO,
    input_tokens: 30,
    output_tokens: 6,
    total_cost_usd: 0.01,
    num_turns: 1,
    turn_count: 1,
  });
  // A message id reused by the next process is a new message, not a repeat.
  tracker.observe(assistant("msg_2", { input_tokens: 20, output_tokens: 1 }));
  assert.equal(tracker.totals().input_tokens, 50);
});

Deno.test("UsageTracker keeps the seen usage when a result has none", () => {
  const tracker = new UsageTracker();
  tracker.observe(assistant("msg_1", { input_tokens: 12, output_tokens: 1 }));
  const totals = tracker.observe({ type: "result", is_error: true, num_turns: 1 });
  assert.deepEqual(totals, {
    ...ZERO,
    input_tokens: 12,
    output_tokens: 1,
    num_turns: 1,
    turn_count: 1,
  });
});

Deno.test("UsageTracker banks the old cost when a cumulative cost falls without startProcess", () => {
  const tracker = new UsageTracker();
  tracker.observe(result({}, 1, 0.025));
  tracker.observe(result({}, 1, 0.004));
  assert.equal(tracker.totals().total_cost_usd, 0.029);
});

Deno.test("UsageTracker reports a process's cost bit-exact, and sums processes with plain addition", () => {
  const first = new UsageTracker();
  first.observe(result({}, 1, 0.000042000000000000004));
  assert.equal(first.totals().total_cost_usd, 0.000042000000000000004);
  const tracker = new UsageTracker({ total_cost_usd: 0.1 });
  tracker.observe(result({}, 1, 0.2));
  assert.equal(tracker.totals().total_cost_usd, 0.1 + 0.2);
});

Deno.test("UsageTracker sums thousands of message ids of one turn, updates included", () => {
  // One long turn: every line its own API message, each raised once a few messages later, as
  // interleaved subagents do (a running sum, not a rescan per line, keeps this linear).
  const tracker = new UsageTracker();
  const n = 5_000;
  for (let i = 0; i < n; i++) {
    tracker.observe(assistant(`msg_${i}`, { input_tokens: 1, output_tokens: 1 }));
    if (i >= 10 && i % 2 === 0) {
      tracker.observe(assistant(`msg_${i - 10}`, { input_tokens: 1, output_tokens: 3 }));
    }
  }
  for (let i = n - 10; i < n; i += 2) {
    tracker.observe(assistant(`msg_${i}`, { input_tokens: 1, output_tokens: 3 }));
  }
  let t = tracker.totals();
  assert.equal(t.input_tokens, n);
  assert.equal(t.output_tokens, n + n);
  // A dying process banks the provisional figures; a result without usage keeps the seen ones.
  tracker.startProcess();
  tracker.observe(assistant("next", { input_tokens: 7, cache_read_input_tokens: 2 }));
  tracker.observe({ type: "result", subtype: "success", is_error: false, num_turns: 1 });
  t = tracker.totals();
  assert.equal(t.input_tokens, n + 7);
  assert.equal(t.output_tokens, n + n);
  assert.equal(t.cache_read_tokens, 2);
  assert.equal(t.turn_count, 1);
});

Deno.test("UsageTracker remembers a bounded number of message ids; the result line settles the rest", () => {
  const tracker = new UsageTracker();
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    tracker.observe(assistant(`msg_${i}`, { input_tokens: 1 }));
    // The newest message's repeated content-block lines still count once.
    tracker.observe(assistant(`msg_${i}`, { input_tokens: 1 }));
  }
  assert.equal(tracker.provisionalIds, MAX_PROVISIONAL_IDS);
  assert.equal(tracker.totals().input_tokens, n);
  // A recent id updates in place...
  tracker.observe(assistant(`msg_${n - 1}`, { input_tokens: 4 }));
  assert.equal(tracker.totals().input_tokens, n + 3);
  // ...a long-forgotten one counts again until the result replaces the provisional figures.
  tracker.observe(assistant("msg_0", { input_tokens: 1 }));
  assert.equal(tracker.totals().input_tokens, n + 4);
  tracker.observe(result({ input_tokens: n + 3 }, 1, 0.01));
  assert.equal(tracker.totals().input_tokens, n + 3);
  assert.equal(tracker.provisionalIds, 0);
});
