/**
 * Mock Anthropic Messages API for tests that run the REAL `claude` CLI (or anything else that speaks the
 * Messages API). Start it with {@linkcode startMockAnthropic}, point the CLI at it with
 * `ANTHROPIC_BASE_URL=<mock.url>` + `ANTHROPIC_API_KEY=sk-test`, and inspect `mock.requests` afterwards.
 *
 * Endpoints (a base-URL path prefix such as `/prefix/tok/v1/messages` is accepted too):
 * - `HEAD|GET /api/hello` → 200, empty body (the CLI's startup probe; no auth).
 * - `POST /v1/messages[?beta=true]` → SSE stream (`message_start … message_stop`, protocol doc §2) when the
 *   body has `stream: true`, else one JSON message (e.g. the `max_tokens:1` model check of `set_model`).
 * - `POST /v1/messages/count_tokens` → `{"input_tokens": N}` (N ≈ body length / 4).
 * - anything else → 404 with an Anthropic-shaped `not_found_error` body.
 *
 * Every request is logged in `requests` (method, path, query, lower-cased headers, parsed JSON body).
 *
 * Scenario = a keyword in the latest *prompt* text: the last user message that carries no `tool_result`
 * block, and in it the last text block that is not a `<system-reminder>` (the CLI puts reminders before the
 * prompt, and after an API error it merges the failed prompt with the next one into one message, so only
 * the newest block counts). The step of a multi-request scenario is the number of assistant messages after
 * that prompt message, so tool loops need no server-side state and `--resume` histories work.
 * | keyword | answer |
 * |---|---|
 * | (none) | text `Hello from mock` (`end_turn`), usage input 12 / output 6 |
 * | `SCENARIO_ECHO` | text = the text blocks of the FIRST user message joined with `\n`, verbatim (with the real CLI that includes its `<system-reminder>` blocks, then the prompt) |
 * | `SCENARIO_TOOLS` | (1) text + `Write {file_path:"<cwd>/hello.txt", content:"hello from mock tool_use\n"}`, (2) `Bash {command:"echo bash-ran \| tee bash_out.txt && cat hello.txt && pwd"}`, (3) text `done` |
 * | `SCENARIO_ENV` | (1) `Bash {command:"env > env_dump.txt"}`, (2) text `env dumped` |
 * | `SCENARIO_BACKGROUND` | (1) `Bash {command:"sleep 600", run_in_background:true}`, (2) text `started in the background` |
 * | `SCENARIO_BG_SLEEP` | (1) `Bash {command:"echo waiting && sleep 600 && echo done"}` (long foreground tool), (2) text `slept` |
 * | `SCENARIO_HTTP_<status>` | that status with the API's error type: 500 `api_error` `Internal server error`, 401 `authentication_error` `invalid x-api-key`, 429 `rate_limit_error` + `retry-after: 1`, 403 `permission_error`, 400 `invalid_request_error`, 404 `not_found_error`, 413 `request_too_large`, 529 `overloaded_error` `Overloaded`, others `api_error` |
 * | `SCENARIO_HTTP_403_PROXY` | 403 `permission_error` `unknown proxy token` (an auth proxy refusing the agent) |
 * | `SCENARIO_RATE_LIMIT_REJECTED` | 429 + `anthropic-ratelimit-unified-status: rejected` (+ 5h reset headers). With OAuth auth (`CLAUDE_CODE_OAUTH_TOKEN`) claude 2.1.328 answers at once, without retry: `rate_limit_event` (rejected), synthetic assistant, `result` is_error 429 `You've hit your 5-hour limit · resets …` |
 * | `SCENARIO_SLOW` | text in 10 deltas 300 ms apart (`slowDelayMs` option) |
 * | `SCENARIO_HANG` | headers + `message_start`, then silence until the client disconnects or `close()` |
 * | `SCENARIO_LONG_TEXT:<n>` | a text reply of exactly n characters (`x` repeated) |
 * | `SCENARIO_MCP_TOOL:mcp__<server>__<tool> {json}` | calls an MCP tool like the real model: (1) `ToolSearch {query:"select:<name>"}` when the tool is deferred (absent from the request's `tools`, ToolSearch present), (2) the tool with the JSON input (default `{}`), (3) text `MCP said: <tool result text>` |
 *
 * `<cwd>` comes from `Primary working directory: <path>` in the system prompt or the messages. Error bodies
 * are `{"type":"error","error":{"type":…,"message":…},"request_id":…}` with a `request-id` header.
 * Non-`/v1/messages` endpoints never take a scenario. Use the `handler` option to answer a request yourself
 * (return `undefined` to fall back to the scenarios) with the exported {@linkcode sseResponse} /
 * {@linkcode jsonMessageResponse} / {@linkcode errorResponse} builders.
 *
 * @example
 * ```ts
 * const mock = await startMockAnthropic();
 * try {
 *   // spawn claude with ANTHROPIC_BASE_URL=mock.url …
 *   await mock.waitForRequests(1, { path: "/v1/messages" });
 * } finally {
 *   await mock.close();
 * }
 * ```
 * @module
 */

/** One request received by the mock. */
export interface MockRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** Query string without `?` (`beta=true`), `""` when absent. */
  query: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or `null` when empty / not JSON. */
  body: unknown | null;
  rawBody: string;
  /** `Date.now()` when the request arrived. */
  at: number;
}

/** A content block the mock answers with. */
export type MockBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id?: string; name: string; input: Record<string, unknown> };

/** Token usage reported by the mock. */
export interface MockUsage {
  input_tokens: number;
  output_tokens: number;
}

/** Options of {@linkcode startMockAnthropic}. */
export interface MockAnthropicOptions {
  /** Text of the default reply. Default `Hello from mock`. */
  defaultText?: string;
  /** Usage of every reply. Default input 12 / output 6. */
  usage?: MockUsage;
  /** Delay between the deltas of `SCENARIO_SLOW`. Default 300 ms. */
  slowDelayMs?: number;
  /**
   * Answer a request yourself; return `undefined` to fall back to the built-in scenarios. Called after the
   * request was logged.
   */
  handler?: (
    request: MockRequest,
    context: MockContext,
  ) => Response | undefined | Promise<Response | undefined>;
}

/** Passed to a custom `handler`. */
export interface MockContext {
  /**
   * Fires when the mock closes. (Client disconnects cancel the response body stream: use the
   * `ReadableStream` `cancel` callback, or pass this signal to {@linkcode sseResponse}.)
   */
  signal: AbortSignal;
  /** 1-based index of this request among all requests. */
  index: number;
}

/** A running mock server. */
export interface MockAnthropic {
  /** `http://127.0.0.1:PORT` (no trailing slash): use as `ANTHROPIC_BASE_URL`. */
  url: string;
  port: number;
  /** Every request received, in arrival order. */
  requests: MockRequest[];
  /** Requests to `/v1/messages` (any base-URL prefix, excluding count_tokens). */
  messageRequests(): MockRequest[];
  /**
   * Resolves once at least `n` requests (optionally only those whose path ends with `path`) were received.
   * Rejects after `timeoutMs` (default 10 s).
   */
  waitForRequests(
    n: number,
    options?: { path?: string; timeoutMs?: number },
  ): Promise<MockRequest[]>;
  /** Aborts open (hanging / slow) streams and stops the server. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_USAGE: MockUsage = { input_tokens: 12, output_tokens: 6 };
const encoder = new TextEncoder();

/** The text of every user text block of a request, in order. */
export function userTexts(request: MockRequest): string[] {
  const body = request.body as { messages?: { role: string; content: unknown }[] } | null;
  const texts: string[] = [];
  for (const message of body?.messages ?? []) {
    if (message.role !== "user") continue;
    if (typeof message.content === "string") texts.push(message.content);
    else if (Array.isArray(message.content)) {
      for (const block of message.content) if (block?.type === "text") texts.push(block.text);
    }
  }
  return texts;
}

/** The streamed Messages requests of one claude session (the CLI names it in a header). */
export function sessionRequests(mock: MockAnthropic, sessionId: string): MockRequest[] {
  return mock.messageRequests().filter((r) =>
    !r.path.includes("count_tokens") && (r.body as { stream?: boolean } | null)?.stream === true &&
    r.headers["x-claude-code-session-id"] === sessionId
  );
}

/** Starts the mock on `127.0.0.1` and a free port. */
export function startMockAnthropic(
  options: MockAnthropicOptions = {},
): Promise<MockAnthropic> {
  const requests: MockRequest[] = [];
  const waiters = new Set<() => void>();
  const shutdown = new AbortController();
  let messageCounter = 0;
  let closed: Promise<void> | undefined;

  const config: ScenarioConfig = {
    defaultText: options.defaultText ?? "Hello from mock",
    usage: options.usage ?? DEFAULT_USAGE,
    slowDelayMs: options.slowDelayMs ?? 300,
    nextId: () => ++messageCounter,
  };

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const rawBody = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
    const headers: Record<string, string> = {};
    req.headers.forEach((value, key) => headers[key] = value);
    const record: MockRequest = {
      method: req.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      headers,
      body: parseJson(rawBody),
      rawBody,
      at: Date.now(),
    };
    requests.push(record);
    for (const wake of [...waiters]) wake();

    // Not req.signal: touching it makes Deno print a "legacy abort" warning. Client disconnects reach
    // streams through ReadableStream.cancel().
    const signal = shutdown.signal;
    if (options.handler) {
      const custom = await options.handler(record, { signal, index: requests.length });
      if (custom) return custom;
    }
    return answer(record, config, signal);
  }

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    signal: shutdown.signal,
    onError: (error) => {
      // Deno.serve's last-resort handler: keep tests readable, answer like the API would.
      return errorResponse(500, "api_error", `Mock failure: ${String(error)}`);
    },
  }, handle);
  const addr = server.addr as Deno.NetAddr;
  const url = `http://127.0.0.1:${addr.port}`;

  function waitForRequests(
    n: number,
    { path, timeoutMs = 10_000 }: { path?: string; timeoutMs?: number } = {},
  ): Promise<MockRequest[]> {
    const select = () =>
      path === undefined ? requests : requests.filter((r) => r.path.endsWith(path));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = select();
        if (found.length < n) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `Cannot wait for ${n} mock requests${
              path ? ` to ${path}` : ""
            }: got ${select().length} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = () => void check();
      waiters.add(wake);
      check();
    });
  }

  function close(): Promise<void> {
    closed ??= (async () => {
      shutdown.abort();
      await server.finished;
    })();
    return closed;
  }

  return Promise.resolve({
    url,
    port: addr.port,
    requests,
    messageRequests: () => requests.filter((r) => isMessagesPath(r.path)),
    waitForRequests,
    close,
    [Symbol.asyncDispose]: close,
  });
}

interface ScenarioConfig {
  defaultText: string;
  usage: MockUsage;
  slowDelayMs: number;
  nextId: () => number;
}

function isMessagesPath(path: string): boolean {
  return path.endsWith("/v1/messages");
}

function answer(
  request: MockRequest,
  config: ScenarioConfig,
  signal: AbortSignal,
): Response | Promise<Response> {
  const { method, path } = request;
  if ((method === "HEAD" || method === "GET") && path.endsWith("/api/hello")) {
    return new Response(null, { status: 200 });
  }
  if (method === "POST" && path.endsWith("/v1/messages/count_tokens")) {
    return Response.json({ input_tokens: Math.max(1, Math.ceil(request.rawBody.length / 4)) });
  }
  if (method !== "POST" || !isMessagesPath(path)) {
    return errorResponse(404, "not_found_error", `Not found: ${method} ${path}`);
  }
  const body = request.body;
  if (!isRecord(body) || !Array.isArray(body.messages)) {
    return errorResponse(400, "invalid_request_error", "messages: Field required");
  }
  const model = typeof body.model === "string" ? body.model : "claude-haiku-4-5";
  const stream = body.stream === true;
  const id = config.nextId();
  const messages = body.messages as unknown[];
  const { keyword, arg, step, proxy } = pickScenario(messages);

  const reply = (blocks: MockBlock[], stopReason = "end_turn") =>
    stream
      ? sseResponse({ id, model, blocks, stopReason, usage: config.usage, signal })
      : jsonMessageResponse({ id, model, blocks, stopReason, usage: config.usage });
  const mcp = pickMcpTool(messages);
  if (mcp) return mcpToolTurn(mcp, body, messages, reply);
  const text = (t: string) => reply([{ type: "text", text: t }]);
  const tool = (name: string, input: Record<string, unknown>, lead?: string) =>
    reply(
      [
        ...(lead ? [{ type: "text" as const, text: lead }] : []),
        { type: "tool_use" as const, id: `toolu_${name.toLowerCase()}_${id}`, name, input },
      ],
      "tool_use",
    );

  switch (keyword) {
    case "SCENARIO_ECHO":
      return text(textOf(messages.find((m) => isRecord(m) && m.role === "user")));
    case "SCENARIO_TOOLS": {
      if (step === 0) {
        const cwd = findCwd(body) ?? ".";
        return tool("Write", {
          file_path: `${cwd.replace(/\/$/, "")}/hello.txt`,
          content: "hello from mock tool_use\n",
        }, "I'll write a file.");
      }
      if (step === 1) {
        return tool("Bash", {
          command: "echo bash-ran | tee bash_out.txt && cat hello.txt && pwd",
          description: "Run bash",
        });
      }
      return text("done");
    }
    case "SCENARIO_ENV":
      return step === 0
        ? tool("Bash", { command: "env > env_dump.txt", description: "Dump env" })
        : text("env dumped");
    case "SCENARIO_BG_SLEEP":
      return step === 0
        ? tool("Bash", {
          command: "echo waiting && sleep 600 && echo done",
          description: "Sleep a long time",
          timeout: 600_000,
        })
        : text("slept");
    case "SCENARIO_BACKGROUND":
      return step === 0
        ? tool("Bash", {
          command: "sleep 600",
          description: "Start a long job in the background",
          run_in_background: true,
        })
        : text("started in the background");
    case "SCENARIO_HTTP":
      return httpError(Number(arg), proxy);
    case "SCENARIO_RATE_LIMIT_REJECTED": {
      const reset = Math.floor(Date.now() / 1000) + 3600;
      return errorResponse(429, "rate_limit_error", "Rate limited", {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": String(reset),
        "anthropic-ratelimit-unified-5h-status": "rejected",
        "anthropic-ratelimit-unified-5h-reset": String(reset),
        "anthropic-ratelimit-unified-5h-utilization": "1.0",
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
      });
    }
    case "SCENARIO_SLOW": {
      const parts = Array.from({ length: 10 }, (_, i) => `slow${i} `);
      if (!stream) return text(parts.join(""));
      return sseResponse({
        id,
        model,
        blocks: [{ type: "text", text: parts.join("") }],
        textChunks: parts,
        delayMs: config.slowDelayMs,
        usage: config.usage,
        signal,
      });
    }
    case "SCENARIO_HANG":
      if (!stream) return hangResponse(signal);
      return sseResponse({ id, model, blocks: [], usage: config.usage, signal, hang: true });
    case "SCENARIO_LONG_TEXT": {
      const n = Math.max(0, Number.parseInt(arg ?? "0", 10) || 0);
      return text("x".repeat(n));
    }
    default:
      return text(config.defaultText);
  }
}

const MCP_TOOL_RE = /\bSCENARIO_MCP_TOOL:(mcp__[A-Za-z0-9_-]+)(?:[ \t]+(\{[^\n]*\}))?/;

/** `SCENARIO_MCP_TOOL:<name> {input}` in the latest prompt, or null. */
function pickMcpTool(messages: unknown[]): { name: string; input: Record<string, unknown> } | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isRecord(m) || m.role !== "user" || hasToolResult(m)) continue;
    const texts = textBlocks(m).filter((t) => !t.trimStart().startsWith("<system-reminder>"));
    const match = MCP_TOOL_RE.exec(texts.at(-1) ?? "");
    if (!match) return null;
    let input: Record<string, unknown> = {};
    if (match[2]) {
      const parsed = parseJson(match[2]);
      if (isRecord(parsed)) input = parsed;
    }
    return { name: match[1]!, input };
  }
  return null;
}

/**
 * One request of the MCP tool scenario, decided from the conversation alone (no server state): the
 * CLI defers MCP tools behind ToolSearch, so the tool is selected first when the request does not
 * list it yet; after the tool's result, the reply quotes it.
 */
function mcpToolTurn(
  mcp: { name: string; input: Record<string, unknown> },
  body: Record<string, unknown>,
  messages: unknown[],
  reply: (blocks: MockBlock[], stopReason?: string) => Response,
): Response {
  const calls = new Map<string, string>();
  for (const m of messages) {
    if (!isRecord(m) || !Array.isArray(m.content)) continue;
    for (const b of m.content) {
      if (isRecord(b) && b.type === "tool_use" && typeof b.id === "string") {
        calls.set(b.id, String(b.name));
      }
    }
  }
  const last = messages.at(-1);
  if (isRecord(last) && Array.isArray(last.content)) {
    for (const b of last.content) {
      if (
        isRecord(b) && b.type === "tool_result" && calls.get(String(b.tool_use_id)) === mcp.name
      ) {
        const text = typeof b.content === "string" ? b.content : textBlocks({ content: b.content })
          .filter((t) => !t.trimStart().startsWith("<system-reminder>")).join("\n");
        return reply([{ type: "text", text: `MCP said: ${text.trim()}` }]);
      }
    }
  }
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const listed = (name: string) => tools.some((t) => isRecord(t) && t.name === name);
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  if (!listed(mcp.name) && listed("ToolSearch")) {
    return reply([{
      type: "tool_use",
      id: `toolu_search_${id}`,
      name: "ToolSearch",
      input: { query: `select:${mcp.name}`, max_results: 1 },
    }], "tool_use");
  }
  return reply(
    [{ type: "tool_use", id: `toolu_mcp_${id}`, name: mcp.name, input: mcp.input }],
    "tool_use",
  );
}

const KEYWORD_RE =
  /\b(SCENARIO_(?:ECHO|TOOLS|ENV|BG_SLEEP|BACKGROUND|RATE_LIMIT_REJECTED|SLOW|HANG|LONG_TEXT|HTTP))(?:[:_](\d+))?(_PROXY)?\b/;

/** Error type and message per HTTP status, like the real API. */
function httpError(status: number, proxy: boolean): Response {
  switch (status) {
    case 400:
      return errorResponse(400, "invalid_request_error", "Invalid request");
    case 401:
      return errorResponse(401, "authentication_error", "invalid x-api-key");
    case 403:
      return errorResponse(
        403,
        "permission_error",
        proxy ? "unknown proxy token" : "Permission denied",
      );
    case 404:
      return errorResponse(404, "not_found_error", "Not found");
    case 413:
      return errorResponse(413, "request_too_large", "Request exceeds the maximum allowed size");
    case 429:
      return errorResponse(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
        { "retry-after": "1" },
      );
    case 529:
      return errorResponse(529, "overloaded_error", "Overloaded");
    default:
      return errorResponse(status || 500, "api_error", "Internal server error");
  }
}

/**
 * Finds the scenario of a conversation: the keyword in the latest prompt message (a user message without
 * tool_result blocks) and the step = number of assistant messages after it. Exported for tests.
 */
export function pickScenario(
  messages: unknown[],
): { keyword: string | undefined; arg: string | undefined; step: number; proxy: boolean } {
  let promptIndex = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (isRecord(m) && m.role === "user" && !hasToolResult(m)) {
      promptIndex = i;
      break;
    }
  }
  if (promptIndex < 0) return { keyword: undefined, arg: undefined, step: 0, proxy: false };
  const step = messages.slice(promptIndex + 1).filter((m) => isRecord(m) && m.role === "assistant")
    .length;
  const texts = textBlocks(messages[promptIndex]);
  for (let i = texts.length - 1; i >= 0; i--) {
    const t = texts[i]!;
    if (t.trimStart().startsWith("<system-reminder>")) continue;
    // Only the newest prompt block counts: after an API error the CLI merges the failed prompt and the
    // next one into one user message ([…"SCENARIO_HTTP_500", "hello"]), which must get the default.
    const match = KEYWORD_RE.exec(t);
    return { keyword: match?.[1], arg: match?.[2], step, proxy: match?.[3] !== undefined };
  }
  return { keyword: undefined, arg: undefined, step, proxy: false };
}

function hasToolResult(message: Record<string, unknown>): boolean {
  return Array.isArray(message.content) &&
    message.content.some((b) => isRecord(b) && b.type === "tool_result");
}

function textBlocks(message: unknown): string[] {
  if (!isRecord(message)) return [];
  const { content } = message;
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((b) =>
    isRecord(b) && b.type === "text" && typeof b.text === "string" ? [b.text] : []
  );
}

function textOf(message: unknown): string {
  return textBlocks(message).join("\n");
}

function findCwd(body: Record<string, unknown>): string | undefined {
  const re = /Primary working directory: *([^\n<]+)/;
  const haystacks: string[] = [];
  const { system } = body;
  if (typeof system === "string") haystacks.push(system);
  else if (Array.isArray(system)) {
    for (const b of system) if (isRecord(b) && typeof b.text === "string") haystacks.push(b.text);
  }
  for (const m of body.messages as unknown[]) haystacks.push(...textBlocks(m));
  for (const h of haystacks) {
    const match = re.exec(h);
    if (match) return match[1]!.trim();
  }
  return undefined;
}

function parseJson(text: string): unknown | null {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An Anthropic-shaped error response with a `request-id` header. */
export function errorResponse(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const requestId = `req_mock_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  return Response.json(
    { type: "error", error: { type, message }, request_id: requestId },
    { status, headers: { "request-id": requestId, ...headers } },
  );
}

/** Options of {@linkcode sseResponse} / {@linkcode jsonMessageResponse}. */
export interface MessageResponseOptions {
  id?: number | string;
  model?: string;
  blocks: MockBlock[];
  stopReason?: string;
  usage?: MockUsage;
}

/** A complete non-streaming Messages API response. */
export function jsonMessageResponse(options: MessageResponseOptions): Response {
  const id = messageId(options.id);
  const usage = options.usage ?? DEFAULT_USAGE;
  return Response.json({
    id,
    type: "message",
    role: "assistant",
    model: options.model ?? "claude-haiku-4-5",
    content: options.blocks.map((b, i) =>
      b.type === "text"
        ? b
        : { type: "tool_use", id: b.id ?? `toolu_${i}_${id}`, name: b.name, input: b.input }
    ),
    stop_reason: options.stopReason ?? "end_turn",
    stop_sequence: null,
    usage: { ...usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  }, { headers: { "request-id": `req_${id}` } });
}

/** Options of {@linkcode sseResponse}. */
export interface SseResponseOptions extends MessageResponseOptions {
  /** Split the (single) text block into these deltas instead of one. */
  textChunks?: string[];
  /** Pause between deltas. Default 0 (everything in one write). */
  delayMs?: number;
  /** Send headers + `message_start`, then nothing until the signal fires. */
  hang?: boolean;
  /** Stops the stream (client disconnect, mock closed). */
  signal?: AbortSignal;
}

/** A streaming (SSE) Messages API response: `message_start … message_stop` as in the protocol doc §2. */
export function sseResponse(options: SseResponseOptions): Response {
  const id = messageId(options.id);
  const usage = options.usage ?? DEFAULT_USAGE;
  const model = options.model ?? "claude-haiku-4-5";
  const events: [string, unknown][] = [];
  const event = (type: string, data: Record<string, unknown>) =>
    events.push([type, { type, ...data }]);
  event("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  });
  const head = events.length;
  options.blocks.forEach((block, index) => {
    if (block.type === "text") {
      event("content_block_start", { index, content_block: { type: "text", text: "" } });
      const chunks = options.textChunks ?? [block.text];
      for (const text of chunks) {
        event("content_block_delta", { index, delta: { type: "text_delta", text } });
      }
    } else {
      event("content_block_start", {
        index,
        content_block: {
          type: "tool_use",
          id: block.id ?? `toolu_${index}_${id}`,
          name: block.name,
          input: {},
        },
      });
      const json = JSON.stringify(block.input);
      const cut = Math.ceil(json.length / 2);
      for (const partial_json of [json.slice(0, cut), json.slice(cut)]) {
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } });
      }
    }
    event("content_block_stop", { index });
  });
  event("message_delta", {
    delta: { stop_reason: options.stopReason ?? "end_turn", stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  event("message_stop", {});

  const frames = events.map(([type, data]) =>
    encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
  );
  const signal = options.signal;
  const delayMs = options.delayMs ?? 0;
  let finish: (() => void) | undefined;

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        signal?.removeEventListener("abort", end);
        try {
          controller.close();
        } catch {
          // already closed or cancelled by the client
        }
        finish?.();
      };
      signal?.addEventListener("abort", end, { once: true });
      if (signal?.aborted) return end();
      const send = (frame: Uint8Array) => {
        if (done) return;
        try {
          controller.enqueue(frame);
        } catch {
          done = true;
        }
      };
      if (options.hang) {
        send(frames[0]!);
        return; // until `end` runs on abort
      }
      if (delayMs <= 0) {
        for (const f of frames) send(f);
        return end();
      }
      // Slow: message_start + block start at once, then each delta after a pause.
      for (let i = 0; i < frames.length && !done; i++) {
        const isDelta = events[i]![0] === "content_block_delta";
        if (isDelta && i > head) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delayMs);
            finish = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          finish = undefined;
        }
        send(frames[i]!);
      }
      end();
    },
    cancel() {
      finish?.();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "request-id": `req_${id}`,
    },
  });
}

function hangResponse(signal: AbortSignal): Promise<Response> {
  // Non-streaming hang: no headers at all; settles (with a 504 nobody reads) only once aborted.
  return new Promise((resolve) => {
    const done = () => resolve(errorResponse(504, "timeout_error", "Mock hang aborted"));
    if (signal.aborted) return done();
    signal.addEventListener("abort", done, { once: true });
  });
}

function messageId(id: number | string | undefined): string {
  if (typeof id === "string") return id;
  return `msg_mock_${id ?? crypto.randomUUID().slice(0, 8)}`;
}
