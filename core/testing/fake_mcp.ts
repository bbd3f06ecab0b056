/**
 * A small streamable-HTTP MCP server for tests (what hero_router's gateway would answer for one
 * service): `POST` JSON-RPC answered with `application/json` (`initialize`, `tools/list`,
 * `tools/call`; notifications get 202; anything else -32601), `GET` (the optional server-to-client
 * SSE stream) 405, `DELETE` 200. Every request is recorded with its headers, so a test can check
 * what claude sent (e.g. `x-hero-context`).
 *
 * Use {@linkcode fakeMcpHandler} inside a server of your own (a router-like test server) or
 * {@linkcode startFakeMcp} for a standalone one on 127.0.0.1.
 * @module
 */

/** One request the fake received. */
export interface FakeMcpRequest {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The JSON-RPC message (POST only). */
  message: { id?: unknown; method?: string; params?: Record<string, unknown> } | null;
}

/** A tool the fake offers. */
export interface FakeMcpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** The text of the call's result. */
  call(args: Record<string, unknown>): string;
}

/** Options of {@linkcode fakeMcpHandler}. */
export interface FakeMcpOptions {
  /** Default: one tool `get_page {page}` answering `PAGE-<page>: once upon a time`. */
  tools?: FakeMcpTool[];
  serverName?: string;
}

/** The default tool. */
export const GET_PAGE_TOOL: FakeMcpTool = {
  name: "get_page",
  description: "Read one page of the current book",
  inputSchema: {
    type: "object",
    properties: { page: { type: "number", description: "page number" } },
  },
  call: (args) => `PAGE-${String(args.page ?? 1)}: once upon a time`,
};

/** A request handler plus what it recorded. */
export interface FakeMcp {
  handle(req: Request): Promise<Response>;
  requests: FakeMcpRequest[];
  /** `tools/call` requests. */
  calls(): FakeMcpRequest[];
}

/** The fake's request handler (mount it at the gateway path). */
export function fakeMcpHandler(options: FakeMcpOptions = {}): FakeMcp {
  const tools = options.tools ?? [GET_PAGE_TOOL];
  const requests: FakeMcpRequest[] = [];
  const session = crypto.randomUUID();
  async function handle(req: Request): Promise<Response> {
    const headers: Record<string, string> = {};
    req.headers.forEach((value, key) => (headers[key] = value));
    const path = new URL(req.url).pathname;
    if (req.method !== "POST") {
      requests.push({ method: req.method, path, headers, message: null });
      return new Response(null, { status: req.method === "DELETE" ? 200 : 405 });
    }
    let message: FakeMcpRequest["message"] = null;
    try {
      message = await req.json();
    } catch {
      return Response.json({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32700, message: "Parse error" },
      }, { status: 400 });
    }
    requests.push({ method: "POST", path, headers, message });
    if (!message || message.id === undefined) return new Response(null, { status: 202 });
    const id = message.id;
    const answer = (result: unknown) =>
      Response.json({ jsonrpc: "2.0", id, result }, { headers: { "mcp-session-id": session } });
    switch (message.method) {
      case "initialize":
        return answer({
          protocolVersion: String(message.params?.protocolVersion ?? "2025-06-18"),
          capabilities: { tools: {} },
          serverInfo: { name: options.serverName ?? "fake_mcp", version: "1.0.0" },
        });
      case "tools/list":
        return answer({
          tools: tools.map(({ name, description, inputSchema }) => ({
            name,
            description,
            inputSchema,
          })),
        });
      case "tools/call": {
        const name = String(message.params?.name ?? "");
        const tool = tools.find((t) => t.name === name);
        if (!tool) {
          return answer({ content: [{ type: "text", text: `no tool ${name}` }], isError: true });
        }
        const args = (message.params?.arguments ?? {}) as Record<string, unknown>;
        return answer({ content: [{ type: "text", text: tool.call(args) }] });
      }
      default:
        return Response.json({
          jsonrpc: "2.0",
          id,
          error: { code: -32601, message: `Method not found: ${message.method}` },
        });
    }
  }
  return {
    handle,
    requests,
    calls: () => requests.filter((r) => r.message?.method === "tools/call"),
  };
}

/** A standalone fake on 127.0.0.1. */
export interface RunningFakeMcp extends FakeMcp, AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  origin: string;
}

/** Starts {@linkcode fakeMcpHandler} on 127.0.0.1 (every path answers). */
export function startFakeMcp(options: FakeMcpOptions = {}): RunningFakeMcp {
  const fake = fakeMcpHandler(options);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fake.handle);
  return {
    ...fake,
    origin: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
