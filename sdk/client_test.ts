import assert from "node:assert/strict";
import { createClient, ERROR_CODES, RpcClient, RpcError } from "./mod.ts";

function fakeFetch(answer: (body: unknown) => Response) {
  const seen: Array<{ url: string; body: unknown; headers: Headers }> = [];
  const fetchFn = (url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body));
    seen.push({ url, body, headers: new Headers(init.headers) });
    return Promise.resolve(answer(body));
  };
  return { fetchFn, seen };
}

Deno.test("createClient(): namespaced methods post JSON-RPC by name through the injected fetch", async () => {
  const { fetchFn, seen } = fakeFetch((body) =>
    Response.json({
      jsonrpc: "2.0",
      id: (body as { id: number }).id,
      result: { agents: [], next_cursor: null },
    })
  );
  const client = createClient({
    fetch: fetchFn,
    baseUrl: "/hero_orchestrator/rpc/",
    headers: { "x-a": "1" },
  });
  const page = await client.agent.list({ bucket: "running" });
  assert.deepEqual(page, { agents: [], next_cursor: null });
  assert.equal(seen[0]!.url, "/hero_orchestrator/rpc/rpc");
  assert.equal(seen[0]!.headers.get("x-a"), "1");
  assert.deepEqual(seen[0]!.body, {
    jsonrpc: "2.0",
    id: 1,
    method: "agent.list",
    params: { bucket: "running" },
  });
  await client.system.health();
  assert.deepEqual((seen[1]!.body as { params: unknown }).params, {});
});

Deno.test("RpcError carries code, message, data, name and reason", async () => {
  const { fetchFn } = fakeFetch((body) =>
    Response.json({
      jsonrpc: "2.0",
      id: (body as { id: number }).id,
      error: {
        code: -32000,
        message: "Cannot find agent",
        data: { name: "AgentNotFoundError", code: "not_found" },
      },
    })
  );
  const client = createClient({ fetch: fetchFn });
  const err = await client.agent.get({ id: "x" }).catch((e) => e);
  assert.ok(err instanceof RpcError);
  assert.equal(err.code, ERROR_CODES.not_found);
  assert.equal(err.name, "AgentNotFoundError");
  assert.equal(err.reason, "not_found");
  assert.equal(err.message, "Cannot find agent");
  assert.deepEqual(err.data, { name: "AgentNotFoundError", code: "not_found" });
});

Deno.test("RpcError for transport failures, 413 and non-JSON answers", async () => {
  const down = createClient({ fetch: () => Promise.reject(new TypeError("connection refused")) });
  const e1 = await down.system.info().catch((e) => e);
  assert.ok(e1 instanceof RpcError && e1.code === -32603 && /connection refused/.test(e1.message));
  const big = createClient({
    fetch: () =>
      Promise.resolve(Response.json({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: -32600,
          message: "too big",
          data: { name: "InvalidRequestError", code: "invalid_request" },
        },
      }, { status: 413 })),
  });
  const e2 = await big.system.info().catch((e) => e);
  assert.ok(e2 instanceof RpcError && e2.status === 413 && e2.code === -32600);
  const html = createClient({
    fetch: () => Promise.resolve(new Response("<html>", { status: 502 })),
  });
  const e3 = await html.system.info().catch((e) => e);
  assert.ok(e3 instanceof RpcError && e3.status === 502);
  const quiet = createClient({ fetch: () => Promise.resolve(new Response(null, { status: 204 })) });
  await quiet.notify("system.health", {});
});

Deno.test("batch(): one slot per call, results and errors by id; an empty batch sends nothing", async () => {
  const { fetchFn, seen } = fakeFetch((body) => {
    const calls = body as Array<{ id: number; method: string }>;
    return Response.json(
      calls.reverse().map((c) =>
        c.method === "agent.get"
          ? { jsonrpc: "2.0", id: c.id, error: { code: -32000, message: "gone" } }
          : { jsonrpc: "2.0", id: c.id, result: { ok: c.method } }
      ),
    );
  });
  const client = new RpcClient({ fetch: fetchFn });
  assert.deepEqual(await client.batch([]), []);
  assert.equal(seen.length, 0);
  const [health, agent] = await client.batch([
    { method: "system.health", params: {} },
    { method: "agent.get", params: { id: "x" } },
  ]);
  assert.deepEqual(health, { ok: "system.health" });
  assert.ok(agent instanceof RpcError && agent.message === "gone");
  assert.equal(seen.length, 1);
});

Deno.test("RpcClient speaks to another JSON-RPC service when given its method table", async () => {
  interface Voice {
    "voice.say": { params: { text: string }; result: { audio: string } };
  }
  const { fetchFn, seen } = fakeFetch((body) =>
    Response.json({ jsonrpc: "2.0", id: (body as { id: number }).id, result: { audio: "UklG" } })
  );
  const voice = new RpcClient<Voice>({ fetch: fetchFn, baseUrl: "/hero_voice/rpc" });
  const answer = await voice.call("voice.say", { text: "hi" });
  assert.equal(answer.audio, "UklG");
  assert.equal(seen[0]!.url, "/hero_voice/rpc/rpc");
  assert.deepEqual(seen[0]!.body, {
    jsonrpc: "2.0",
    id: 1,
    method: "voice.say",
    params: { text: "hi" },
  });
});
