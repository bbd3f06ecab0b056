import assert from "node:assert/strict";
import {
  pickScenario,
  realClaudeAvailable,
  runRealClaudeTurn,
  startMockAnthropic,
  startRealClaude,
} from "./mod.ts";

const noRealClaude = !(await realClaudeAvailable());

/** Parses an SSE body into `[event, data]` pairs. */
function parseSse(text: string): [string, Record<string, unknown>][] {
  return text.trim().split("\n\n").map((frame) => {
    const event = /^event: (.*)$/m.exec(frame)![1]!;
    const data = JSON.parse(/^data: (.*)$/m.exec(frame)![1]!);
    return [event, data];
  });
}

function messagesBody(text: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    model: "claude-haiku-4-5",
    max_tokens: 100,
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    ...extra,
  });
}

Deno.test("mock answers hello, count_tokens, non-streaming messages and 404", async () => {
  await using mock = await startMockAnthropic();
  assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const hello = await fetch(`${mock.url}/api/hello`, { method: "HEAD" });
  assert.equal(hello.status, 200);
  await hello.body?.cancel();

  const count = await fetch(`${mock.url}/v1/messages/count_tokens?beta=true`, {
    method: "POST",
    body: messagesBody("hi"),
  });
  assert.ok(((await count.json()).input_tokens as number) > 0);

  const plain = await fetch(`${mock.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "x-api-key": "sk-test" },
    body: messagesBody("Hi", { max_tokens: 1 }),
  });
  const message = await plain.json();
  assert.equal(message.type, "message");
  assert.deepEqual(message.content, [{ type: "text", text: "Hello from mock" }]);
  assert.equal(message.stop_reason, "end_turn");

  const missing = await fetch(`${mock.url}/v2/nothing`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.type, "not_found_error");

  assert.equal(mock.requests.length, 4);
  const logged = mock.requests[2]!;
  assert.equal(logged.path, "/v1/messages");
  assert.equal(logged.query, "beta=true");
  assert.equal(logged.headers["x-api-key"], "sk-test");
  assert.equal((logged.body as { max_tokens: number }).max_tokens, 1);
  assert.equal(mock.messageRequests().length, 1);
});

Deno.test("mock streams the SSE event sequence of the protocol doc", async () => {
  await using mock = await startMockAnthropic();
  const res = await fetch(`${mock.url}/v1/messages?beta=true`, {
    method: "POST",
    body: messagesBody("do SCENARIO_TOOLS Primary working directory: /w/x", { stream: true }),
  });
  assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
  const events = parseSse(await res.text());
  assert.deepEqual(events.map(([e]) => e), [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  for (const [event, data] of events) assert.equal(data.type, event);
  const input = events.filter(([, d]) => (d.delta as Record<string, string>)?.partial_json)
    .map(([, d]) => (d.delta as Record<string, string>).partial_json).join("");
  assert.deepEqual(JSON.parse(input), {
    file_path: "/w/x/hello.txt",
    content: "hello from mock tool_use\n",
  });
  assert.equal((events[8]![1].delta as Record<string, unknown>).stop_reason, "tool_use");
});

Deno.test("mock error scenarios return Anthropic-shaped errors with request-id", async () => {
  await using mock = await startMockAnthropic();
  const cases: [string, number, string][] = [
    ["SCENARIO_HTTP_500", 500, "api_error"],
    ["SCENARIO_HTTP_401", 401, "authentication_error"],
    ["SCENARIO_HTTP_429", 429, "rate_limit_error"],
    ["SCENARIO_HTTP_403_PROXY", 403, "permission_error"],
    ["SCENARIO_HTTP_529", 529, "overloaded_error"],
    ["SCENARIO_HTTP_400", 400, "invalid_request_error"],
  ];
  for (const [keyword, status, type] of cases) {
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: "POST",
      body: messagesBody(keyword, { stream: true }),
    });
    assert.equal(res.status, status);
    assert.ok(res.headers.get("request-id"));
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, type);
    if (status === 429) assert.equal(res.headers.get("retry-after"), "1");
    if (status === 403) assert.equal(body.error.message, "unknown proxy token");
  }
});

Deno.test("mock SCENARIO_SLOW spaces deltas; SCENARIO_LONG_TEXT has n chars", async () => {
  await using mock = await startMockAnthropic({ slowDelayMs: 30 });
  const start = performance.now();
  const slow = await fetch(`${mock.url}/v1/messages`, {
    method: "POST",
    body: messagesBody("SCENARIO_SLOW", { stream: true }),
  });
  const deltas = parseSse(await slow.text()).filter(([e]) => e === "content_block_delta");
  assert.equal(deltas.length, 10);
  assert.ok(performance.now() - start >= 9 * 30 - 5);

  const long = await fetch(`${mock.url}/v1/messages`, {
    method: "POST",
    body: messagesBody("SCENARIO_LONG_TEXT:5000"),
  });
  assert.equal((await long.json()).content[0].text.length, 5000);
});

Deno.test("mock close() ends a hanging stream; client disconnects are clean", async () => {
  const mock = await startMockAnthropic();
  const res = await fetch(`${mock.url}/v1/messages`, {
    method: "POST",
    body: messagesBody("SCENARIO_HANG", { stream: true }),
  });
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /^event: message_start/);

  // A second hanging client that disconnects by itself.
  const other = await fetch(`${mock.url}/v1/messages`, {
    method: "POST",
    body: messagesBody("SCENARIO_HANG", { stream: true }),
  });
  await other.body!.cancel();

  // A non-streaming hang gets no headers at all until close().
  const headerless = fetch(`${mock.url}/v1/messages`, {
    method: "POST",
    body: messagesBody("SCENARIO_HANG"),
  }).then((r) => r.body?.cancel(), () => {});

  const start = performance.now();
  const rest = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  await mock.close();
  await rest.catch(() => {});
  await headerless;
  assert.ok(performance.now() - start < 2000);
  await mock.close(); // idempotent
});

Deno.test("pickScenario uses the latest prompt and counts steps after it", () => {
  const prompt = (text: string) => ({ role: "user", content: [{ type: "text", text }] });
  const toolResult = {
    role: "user",
    content: [{ type: "tool_result", tool_use_id: "t", content: "" }],
  };
  const assistant = { role: "assistant", content: [{ type: "text", text: "ok" }] };
  assert.deepEqual(pickScenario([prompt("x SCENARIO_TOOLS")]), {
    keyword: "SCENARIO_TOOLS",
    arg: undefined,
    step: 0,
    proxy: false,
  });
  assert.deepEqual(pickScenario([prompt("SCENARIO_HTTP_403_PROXY")]), {
    keyword: "SCENARIO_HTTP",
    arg: "403",
    step: 0,
    proxy: true,
  });
  assert.equal(
    pickScenario([prompt("SCENARIO_TOOLS"), assistant, toolResult, assistant, toolResult]).step,
    2,
  );
  // A later prompt without keyword resets to the default, even with an older keyword block.
  assert.equal(
    pickScenario([prompt("SCENARIO_TOOLS"), assistant, {
      role: "user",
      content: [{ type: "text", text: "SCENARIO_HTTP_500" }, { type: "text", text: "hello" }],
    }]).keyword,
    undefined,
  );
  // System reminders are skipped.
  assert.equal(
    pickScenario([{
      role: "user",
      content: [{ type: "text", text: "SCENARIO_ENV" }, {
        type: "text",
        text: "<system-reminder>SCENARIO_HANG</system-reminder>",
      }],
    }]).keyword,
    "SCENARIO_ENV",
  );
  assert.equal(pickScenario([prompt("SCENARIO_LONG_TEXT:42")]).arg, "42");
});

// ---- the real CLI against the mock -------------------------------------------------------------

Deno.test({
  name: "real claude: plain text turn gets the mock's reply",
  ignore: noRealClaude,
  async fn() {
    await using mock = await startMockAnthropic();
    await using turn = await runRealClaudeTurn({ mockUrl: mock.url, prompt: "say hi" });
    assert.equal(turn.result.result, "Hello from mock", turn.stderr);
    assert.equal(turn.result.is_error, false);
    assert.equal(turn.result.subtype, "success");
    assert.equal(turn.code, 0);
    assert.equal(turn.init?.session_id, turn.result.session_id);
    const request = mock.messageRequests()[0]!;
    assert.equal(request.headers["x-api-key"], "sk-test");
    assert.equal(request.query, "beta=true");
  },
});

Deno.test({
  name: "real claude: SCENARIO_TOOLS writes files with Write and Bash in the cwd",
  ignore: noRealClaude,
  async fn() {
    await using mock = await startMockAnthropic();
    await using turn = await runRealClaudeTurn({
      mockUrl: mock.url,
      prompt: "please SCENARIO_TOOLS",
    });
    assert.equal(turn.result.is_error, false, turn.stderr);
    assert.equal(turn.result.num_turns, 3);
    assert.equal(turn.result.result, "done");
    assert.equal(
      await Deno.readTextFile(`${turn.cwd}/hello.txt`),
      "hello from mock tool_use\n",
    );
    assert.equal(await Deno.readTextFile(`${turn.cwd}/bash_out.txt`), "bash-ran\n");
    const toolResults = turn.lines.filter((l) => l.type === "user");
    assert.equal(toolResults.length, 2);
    assert.match(JSON.stringify(toolResults[1]), /bash-ran\\nhello from mock tool_use/);
    assert.equal(mock.messageRequests().length, 3);
  },
});

Deno.test({
  name: "real claude: SCENARIO_HTTP_500 without retries is an is_error success result",
  ignore: noRealClaude,
  async fn() {
    await using mock = await startMockAnthropic();
    await using turn = await runRealClaudeTurn({
      mockUrl: mock.url,
      prompt: "SCENARIO_HTTP_500",
      maxRetries: 0,
    });
    assert.equal(turn.result.is_error, true);
    assert.equal(turn.result.subtype, "success");
    assert.equal(turn.result.api_error_status, 500);
    assert.equal(turn.code, 1);
    assert.equal(mock.messageRequests().length, 1);
  },
});

Deno.test({
  name: "real claude: a prompt starting with --version reaches the model as text",
  ignore: noRealClaude,
  async fn() {
    await using mock = await startMockAnthropic();
    await using proc = await startRealClaude({ mockUrl: mock.url });
    await proc.send("--version SCENARIO_ECHO");
    const first = await proc.nextResult();
    assert.equal(first.is_error, false, proc.stderr());
    assert.match(first.result as string, /--version SCENARIO_ECHO/);
    // Same process, second turn: default reply again, cost accumulates.
    await proc.send("again");
    const second = await proc.nextResult();
    assert.equal(second.result, "Hello from mock");
    assert.equal(second.session_id, first.session_id);
    assert.ok((second.total_cost_usd as number) > (first.total_cost_usd as number));
    await proc.closeStdin();
    assert.equal((await proc.status()).code, 0);
  },
});
