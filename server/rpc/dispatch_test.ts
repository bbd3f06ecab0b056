/**
 * JSON-RPC protocol behaviour over the real Unix socket, against the daemon as it ships (under its
 * production permission set, reliability target T40; temp DB, fake claude): every error case,
 * batches, notifications, limits and prototype safety. The -32603 test drives a `Dispatcher` with
 * a failing handler in this process.
 */
import assert from "node:assert/strict";
import { MAX_BODY_BYTES, RPC_ERRORS } from "@hero/core/rpc";
import { fakePrompt } from "@hero/core/testing";
import { startInProcess, startProduction, tempEnv, waitFor } from "../testing/daemon.ts";
import { Dispatcher } from "./dispatch.ts";
import { HANDLERS } from "./handlers/mod.ts";

type Json = Record<string, unknown>;

async function post(
  f: typeof fetch,
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; text: string }> {
  const r = await f("http://localhost/rpc", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: r.status, json, text };
}

function call(method: unknown, params?: unknown, id: unknown = 1): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    method,
    ...(params !== undefined ? { params } : {}),
  });
}

function errorOf(json: unknown): { code: number; message: string; data: Json } {
  const e = (json as { error?: { code: number; message: string; data: Json } }).error;
  assert.ok(e, `expected an error, got ${JSON.stringify(json)}`);
  return e;
}

Deno.test("dispatch: protocol errors -32700, -32600, -32601, -32602 with names and ids", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const f = d.fetch;

  // -32700: unparsable JSON (and invalid UTF-8), HTTP 200, id null.
  for (const body of ['{"jsonrpc":', "nope", new Uint8Array([0x22, 0xff, 0x22])]) {
    const r = await post(f, body);
    assert.equal(r.status, 200);
    const e = errorOf(r.json);
    assert.equal(e.code, -32700);
    assert.equal(e.data.name, "ParseError");
    assert.equal(e.data.code, "parse_error");
    assert.equal((r.json as Json).id, null);
  }

  // -32600: not an object, wrong version, bad method, bad id, bad params.
  const invalid: Array<[string, unknown]> = [
    ["1", null],
    ['"x"', null],
    ["null", null],
    ["{}", null],
    [JSON.stringify({ jsonrpc: "1.0", id: 7, method: "agent.list" }), 7],
    [JSON.stringify({ id: 8, method: "agent.list" }), 8],
    [JSON.stringify({ jsonrpc: "2.0", id: 9, method: 5 }), 9],
    [JSON.stringify({ jsonrpc: "2.0", id: { a: 1 }, method: "agent.list" }), null],
    [JSON.stringify({ jsonrpc: "2.0", id: true, method: "agent.list" }), null],
    [JSON.stringify({ jsonrpc: "2.0", id: 10, method: "agent.list", params: "x" }), 10],
    [JSON.stringify({ jsonrpc: "2.0", id: 11, method: "agent.list", params: null }), 11],
  ];
  for (const [body, id] of invalid) {
    const r = await post(f, body);
    assert.equal(r.status, 200, body);
    const e = errorOf(r.json);
    assert.equal(e.code, -32600, body);
    assert.equal(e.data.name, "InvalidRequestError");
    assert.equal((r.json as Json).id, id, body);
  }

  // -32601, including names that exist on Object.prototype.
  for (
    const method of ["nope", "agent.nope", "__proto__", "constructor", "toString", "hasOwnProperty"]
  ) {
    const r = await post(f, call(method, {}, "s"));
    const e = errorOf(r.json);
    assert.equal(e.code, -32601, method);
    assert.equal(e.data.name, "MethodNotFoundError");
    assert.equal((r.json as Json).id, "s");
  }

  // -32602 with zod issues in data.
  const bad = await post(f, call("agent.list", { limit: 0, bogus: 1 }));
  const e = errorOf(bad.json);
  assert.equal(e.code, -32602);
  assert.equal(e.data.name, "InvalidParamsError");
  assert.equal(e.data.code, "invalid_params");
  const issues = e.data.issues as Array<{ path: unknown[]; code: string }>;
  assert.ok(issues.some((i) => i.path[0] === "limit"), JSON.stringify(issues));
  assert.ok(issues.some((i) => i.code === "unrecognized_keys"), JSON.stringify(issues));
  // Positional params are refused: this service takes params by name.
  assert.equal(errorOf((await post(f, call("agent.get", ["x"]))).json).code, -32602);
  // Missing params = {}: agent.get then lacks `id`.
  const missing = errorOf((await post(f, call("agent.get"))).json);
  assert.equal(missing.code, -32602);
  assert.deepEqual((missing.data.issues as Array<{ path: unknown[] }>)[0]!.path, ["id"]);
});

Deno.test("dispatch: domain errors carry stable codes and names", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const f = d.fetch;
  const cases: Array<[string, unknown, keyof typeof RPC_ERRORS, string?]> = [
    ["agent.get", { id: "0000" }, "not_found"],
    ["agent.messages", { id: "0000" }, "not_found"],
    ["agent.cancel", { id: "0000" }, "not_found"],
    ["agent.delete", { id: "0000" }, "not_found"],
    ["agent.create", { prompt: "x", cwd: "relative/dir" }, "invalid_cwd", "cwd"],
    ["agent.create", { prompt: "x", cwd: `${t.dir}/does-not-exist` }, "invalid_cwd", "cwd"],
    [
      "agent.create",
      { prompt: "x", cwd: `${t.env.PATH_VAR}/hero_orchestrator` },
      "invalid_cwd",
      "cwd",
    ],
    [
      "agent.create",
      { prompt: "x", cwd: `${t.env.PATH_SOCKET}/hero_orchestrator` },
      "invalid_cwd",
      "cwd",
    ],
    ["agent.create", { prompt: "x", cwd: "" }, "invalid_cwd", "cwd"],
    ["agent.create", { prompt: "x", cwd: t.work, model: "gpt-5" }, "invalid_model", "model"],
    ["agent.create", { prompt: "x", cwd: t.work, effort: "ultra" }, "invalid_effort", "effort"],
    ["agent.create", { prompt: "", cwd: t.work }, "invalid_prompt", "prompt"],
    ["agent.create", { prompt: "x".repeat(200_001), cwd: t.work }, "invalid_prompt", "prompt"],
  ];
  for (const [method, params, reason, field] of cases) {
    const e = errorOf((await post(f, call(method, params))).json);
    const spec = RPC_ERRORS[reason];
    assert.equal(
      e.code,
      spec.code,
      `${method} ${JSON.stringify(params).slice(0, 80)}: ${e.message}`,
    );
    assert.ok(e.code <= -32000);
    assert.equal(e.data.code, reason);
    assert.equal(e.data.name, spec.name);
    if (field) assert.equal(e.data.field, field);
  }

  // invalid_state: complete or delete an agent that is still running.
  const agent = await d.client.agent.create({
    prompt: fakePrompt({ steps: [{ init: true }, { hang: true }] }),
    cwd: t.work,
  });
  await waitFor(
    "running",
    async () => (await d.client.agent.get({ id: agent.id })).status === "running",
  );
  for (const method of ["agent.complete", "agent.delete"]) {
    const e = errorOf((await post(f, call(method, { id: agent.id }))).json);
    assert.equal(e.code, -32001, method);
    assert.equal(e.data.code, "invalid_state");
    assert.equal(e.data.name, "InvalidStateError");
  }
  await d.client.agent.cancel({ id: agent.id });
});

Deno.test("dispatch: an unexpected error is -32603 without internals", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const logged: unknown[] = [];
  const dispatcher = new Dispatcher({
    handlers: {
      ...HANDLERS,
      "agent.get"() {
        throw new Error("secret detail /etc/shadow");
      },
      "agent.list"() {
        return { agents: "not an array" } as never;
      },
    },
    deps: {
      engine: d.daemon.engine,
      events: d.daemon.events,
      openrpc: { openrpc: "1.3.2", info: { title: "t", version: "0" }, methods: [] },
      startedAt: Date.now(),
      claudeVersion: () => Promise.resolve(null),
      log: (...args) => logged.push(args),
    },
  });
  for (const method of ["agent.get", "agent.list"]) {
    const r = await dispatcher.handle({
      jsonrpc: "2.0",
      id: 1,
      method,
      params: method === "agent.get" ? { id: "x" } : {},
    });
    const e = errorOf(r);
    assert.equal(e.code, -32603);
    assert.equal(e.message, "Internal error");
    assert.deepEqual(e.data, { name: "InternalError", code: "internal_error" });
    assert.ok(!JSON.stringify(r).includes("secret"));
  }
  assert.equal(logged.length, 2, "both failures are logged server-side");
});

Deno.test("dispatch: batches, notifications and 204", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const f = d.fetch;

  const mixed = await post(
    f,
    JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "system.health" },
      { jsonrpc: "2.0", method: "system.health" }, // notification: no answer
      { jsonrpc: "2.0", id: "b", method: "nope" },
      42,
      { jsonrpc: "2.0", id: 3, method: "agent.get", params: { id: "missing" } },
    ]),
  );
  assert.equal(mixed.status, 200);
  const answers = mixed.json as Array<Json>;
  assert.equal(answers.length, 4);
  assert.equal((answers.find((a) => a.id === 1)!.result as Json).status, "ok");
  assert.equal(errorOf(answers.find((a) => a.id === "b")).code, -32601);
  assert.equal(errorOf(answers.find((a) => a.id === null)).code, -32600);
  assert.equal(errorOf(answers.find((a) => a.id === 3)).code, -32000);

  // Only notifications (valid or not) → 204 with no body.
  const quiet = await post(
    f,
    JSON.stringify([
      { jsonrpc: "2.0", method: "system.health" },
      { jsonrpc: "2.0", method: "nope" },
      { jsonrpc: "2.0", method: "agent.get", params: { id: "missing" } },
    ]),
  );
  assert.equal(quiet.status, 204);
  assert.equal(quiet.text, "");
  const single = await post(
    f,
    JSON.stringify({ jsonrpc: "2.0", method: "agent.list", params: {} }),
  );
  assert.equal(single.status, 204);
  assert.equal(single.text, "");

  // Empty batch: one error object.
  const empty = await post(f, "[]");
  assert.equal(empty.status, 200);
  assert.equal(errorOf(empty.json).code, -32600);
  assert.equal((empty.json as Json).id, null);

  // 100 is the most a batch may hold.
  const hundred = Array.from(
    { length: 100 },
    (_, i) => ({ jsonrpc: "2.0", id: i, method: "system.health" }),
  );
  const full = await post(f, JSON.stringify(hundred));
  assert.equal((full.json as unknown[]).length, 100);
  const over = await post(
    f,
    JSON.stringify([...hundred, { jsonrpc: "2.0", id: 100, method: "system.health" }]),
  );
  const e = errorOf(over.json);
  assert.equal(e.code, -32600);
  assert.equal(e.data.max_batch, 100);

  // The SDK's batch maps answers back to their calls.
  const results = await d.client.batch([
    { method: "system.health", params: {} },
    { method: "agent.get", params: { id: "missing" } },
  ]);
  assert.equal((results[0] as Json).service, "hero_orchestrator");
  assert.equal((results[1] as { reason?: string }).reason, "not_found");
});

Deno.test("dispatch: bodies over 1 MiB get 413 before parsing; nesting over 32 gets -32600", async () => {
  await using t = await tempEnv();
  // In this process: against the child daemon the client sometimes gets EPIPE instead of the 413
  // (the server answers and closes while the body is still being sent; docs/reliability.md, T38).
  await using d = await startInProcess(t.env);
  const f = d.fetch;

  // Exactly 1 MiB of valid JSON is accepted.
  const base = call("system.health", {});
  const padded = base.slice(0, -1) + " ".repeat(MAX_BODY_BYTES - base.length) + "}";
  assert.equal(padded.length, MAX_BODY_BYTES);
  const ok = await post(f, padded);
  assert.equal(ok.status, 200);
  assert.equal(((ok.json as Json).result as Json).status, "ok");

  // One byte more (declared length) → 413, even though it is valid JSON.
  const over = padded.slice(0, -1) + " }";
  const r = await post(f, over);
  assert.equal(r.status, 413);
  assert.equal(errorOf(r.json).data.max_body_bytes, MAX_BODY_BYTES);

  // A streamed (chunked, no content-length) body is cut at the limit: 8 MiB never gets read.
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= 8 * MAX_BODY_BYTES) return c.close();
      sent += 64 * 1024;
      c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
    },
  });
  const chunked = await post(f, stream);
  assert.equal(chunked.status, 413);

  // Depth: 32 levels pass the scanner (then fail validation), 33 and 10^5 do not.
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  const at32 = `{"jsonrpc":"2.0","id":1,"method":"agent.list","params":{"x":${nest(30)}}}`;
  assert.equal(errorOf((await post(f, at32)).json).code, -32602);
  const at33 = `{"jsonrpc":"2.0","id":1,"method":"agent.list","params":{"x":${nest(31)}}}`;
  const deep = errorOf((await post(f, at33)).json);
  assert.equal(deep.code, -32600);
  assert.equal(deep.data.max_depth, 32);
  const started = performance.now();
  const huge = await post(f, nest(100_000));
  assert.equal(errorOf(huge.json).code, -32600);
  assert.ok(performance.now() - started < 500, "a 10^5-deep document is refused quickly");
  // Deep nesting inside a batch counts too.
  assert.equal(errorOf((await post(f, `[${at33}]`)).json).code, -32600);
});

Deno.test("dispatch: __proto__ and constructor keys pollute nothing", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const f = d.fetch;
  const bodies = [
    `{"jsonrpc":"2.0","id":1,"method":"agent.list","params":{"__proto__":{"polluted":true}}}`,
    `{"jsonrpc":"2.0","id":2,"method":"agent.list","params":{"constructor":{"prototype":{"polluted":true}}}}`,
    `{"jsonrpc":"2.0","id":3,"method":"system.health","__proto__":{"polluted":true},"params":{}}`,
    `[{"jsonrpc":"2.0","id":4,"method":"agent.get","params":{"id":"x","__proto__":{"polluted":true}}}]`,
    `{"jsonrpc":"2.0","id":5,"method":"agent.create","params":{"prompt":"x","cwd":"/tmp","__proto__":{"model":"evil"}}}`,
    `{"jsonrpc":"2.0","id":6,"method":"__proto__","params":{}}`,
    `{"jsonrpc":"2.0","id":{"__proto__":{"polluted":true}},"method":"agent.list"}`,
  ];
  const codes = [];
  for (const body of bodies) {
    const r = await post(f, body);
    const json = r.json as Json | Json[];
    const one = Array.isArray(json) ? json[0]! : json;
    codes.push(one.error ? (one.error as Json).code : "ok");
  }
  assert.deepEqual(codes, [-32602, -32602, "ok", -32602, -32602, -32601, -32600]);
  // Nothing reached any prototype, and no agent was created through a polluted key.
  assert.equal(({} as Json).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
  assert.equal(({} as Json).model, undefined);
  assert.equal((await d.client.agent.list()).agents.length, 0);
});

Deno.test("dispatch: a flood of malformed requests does not slow valid ones", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const f = d.fetch;
  const malformed = [
    "{".repeat(200_000),
    "x".repeat(512 * 1024),
    `{"jsonrpc":"2.0","id":1,"method":"nope"}`,
    "[" + "1,".repeat(50_000) + "1]",
  ];
  const p95Of = async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      const r = await post(f, call("agent.list", { limit: 10 }));
      latencies.push(performance.now() - started);
      assert.ok((r.json as Json).result);
    }
    latencies.sort((a, b) => a - b);
    return latencies[Math.floor(latencies.length * 0.95)]!;
  };
  // The same probes without the flood, in this run: a loaded machine slows both alike.
  const quiet = await p95Of();
  let stop = false;
  const flood = (async () => {
    let n = 0;
    while (!stop) {
      await Promise.all(malformed.map((b) => post(f, b)));
      n += malformed.length;
    }
    return n;
  })();
  const p95 = await p95Of();
  stop = true;
  const sent = await flood;
  assert.ok(sent > 40, `flood sent ${sent}`);
  // A malformed body that cost the event loop real time (a super-linear scan of 200k brackets,
  // parsing 512 KiB of junk) shows up as seconds; a busy machine as a constant factor.
  const bound = Math.max(20 * quiet, 1_000);
  assert.ok(
    p95 <= bound,
    `valid p95 ${p95.toFixed(1)} ms under the flood, ${quiet.toFixed(1)} ms without`,
  );
});
