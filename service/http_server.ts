import type { Log } from "./log.ts";
/**
 * An HTTP/1.1 server on a Unix socket with its own accept loop, for every listener of the service
 * (rpc.sock, proxy.sock, admin.sock). `Deno.serve` hides accept: an `EMFILE` from accept rejects
 * its internal loop and kills the process (`Uncaught (in promise) Http: Error: Too many open
 * files`), and it has no connection cap, no header timeout and no idle timeout. Here:
 *
 * - accept errors are survived: the loop backs off and retries, logging once per interval;
 * - at most `maxConnections` are open. At the cap, a new connection takes the place of the one
 *   that has waited longest without a request in flight (a flood of idle or half-sent connections
 *   cannot lock real clients out); when every connection is busy, the new one gets a 503 and is
 *   closed at once (shed);
 * - a request head must arrive within `headerTimeoutMs` of the connection (or of its first byte
 *   after a keep-alive pause), a connection with no request in flight is closed after
 *   `idleTimeoutMs`, and a request body must make progress within `idleTimeoutMs`;
 * - a client that goes away cancels its response body (SSE streams end at once).
 *
 * Handlers take a web `Request` and return a `Response`, like `Deno.serve` handlers.
 * @module
 */

/** The one log function of the binaries (service/log.ts). */
export type ServerLog = Log;

/** Limits of one listener. */
export interface ConnectionLimits {
  /** Open connections at most; more are answered 503 and closed. */
  maxConnections: number;
  /** From accept (or a keep-alive connection's first byte) to the end of the request head. */
  headerTimeoutMs: number;
  /** A connection without a request in flight, or a stalled request body, is closed after this. */
  idleTimeoutMs: number;
}

/** Options of {@linkcode serveListener}. */
export interface ServeOptions extends ConnectionLimits {
  handler: (request: Request) => Response | Promise<Response>;
  /** Names the listener in logs (`rpc`, `proxy`, `admin`). */
  name: string;
  log?: ServerLog;
  /** Answer for a handler that throws. */
  onError?: (error: unknown) => Response;
  /** Request heads above this are refused (431). Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Accept errors are logged at most once per this interval. Default 10 s. */
  logIntervalMs?: number;
}

/** Options of {@linkcode serveUnix}. */
export interface ServeUnixOptions extends ServeOptions {
  /** The socket path (must be free: see `claimSocketPath`). */
  path: string;
}

/** Options of {@linkcode serveTcp}. */
export interface ServeTcpOptions extends ServeOptions {
  hostname: string;
  /** 0 picks a free port (see `addr`). */
  port: number;
}

/** Counters of one listener. */
export interface ServerStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections answered 503 because the cap was reached with every connection busy. */
  shed: number;
  /** Idle connections closed to make room for new ones at the cap. */
  evicted: number;
  /** Failed accepts (e.g. EMFILE). */
  accept_errors: number;
  /** Connections closed by the header or idle timeout. */
  timed_out: number;
}

/** A running server. */
export interface HttpServer<A extends Deno.Addr = Deno.Addr> {
  /** The address it listens on. */
  readonly addr: A;
  stats(): ServerStats;
  /** Stops accepting, closes idle connections, waits for the others (closing them after `graceMs`). */
  shutdown(graceMs?: number): Promise<void>;
}

const CRLF = new TextEncoder().encode("\r\n");
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
/** Unread request body bytes drained to keep a connection; more and it is closed instead. */
const MAX_DRAIN_BYTES = 64 * 1024;
/**
 * A lingering close after an answer sent before the request body was read (a 413): how long, and
 * how many bytes, the rest of the body is read and discarded so the client can finish sending and
 * read the answer. Closing at once makes the client's kernel see a reset, and the client reports
 * a broken pipe instead of the answer.
 */
const LINGER_MS = 2_000;
const LINGER_MAX_BYTES = 16 * 1024 * 1024;

class Closed extends Error {
  override name = "Closed";
}

/** One accepted connection: a read buffer, deadlines, and close detection. */
class Connection {
  readonly conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #pending: Promise<boolean> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly closedSignal: AbortSignal;
  #abort = new AbortController();
  /** True while a request is being handled (the idle timeout does not apply). */
  busy = false;
  /** When the connection last became idle (accepted, or its last response was written). */
  idleSince = Date.now();
  onTimeout: () => void = () => {};

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.closedSignal = this.#abort.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get buffered(): number {
    return this.#buf.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.clearDeadline();
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.#abort.abort(new Closed("connection closed"));
  }

  /** Closes the connection unless cleared within `ms`. */
  deadline(ms: number): void {
    this.clearDeadline();
    this.#timer = setTimeout(() => {
      this.onTimeout();
      this.close();
    }, ms);
  }

  clearDeadline(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reads more bytes into the buffer; false on EOF or error. One read at a time is shared. */
  fill(): Promise<boolean> {
    this.#pending ??= (async () => {
      if (this.#closed) return false;
      const chunk = new Uint8Array(16 * 1024);
      let n: number | null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        n = null;
      }
      this.#pending = null;
      if (n === null || n === 0) return false;
      const merged = new Uint8Array(this.#buf.length + n);
      merged.set(this.#buf);
      merged.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = merged;
      return true;
    })();
    return this.#pending;
  }

  /** Takes up to `max` buffered bytes. */
  take(max: number): Uint8Array {
    const out = this.#buf.subarray(0, Math.min(max, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** Index of `\r\n\r\n` (or `\n\n`) ending a head in the buffer, as the head's length; -1 if none. */
  headEnd(): number {
    const b = this.#buf;
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== 10) continue;
      if (b[i + 1] === 10) return i + 2;
      if (b[i + 1] === 13 && b[i + 2] === 10) return i + 3;
    }
    return -1;
  }

  /** The next line (without CR LF) from the buffer, reading as needed; null on EOF. */
  async line(max: number): Promise<string | null> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        const raw = this.take(nl + 1);
        return decoder.decode(raw.subarray(0, raw.length - (raw[nl - 1] === 13 ? 2 : 1)));
      }
      if (this.#buf.length > max || !(await this.fill())) return null;
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#closed) throw new Closed("connection closed");
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }
}

interface Head {
  method: string;
  target: string;
  version: "1.0" | "1.1";
  headers: Headers;
}

class BadRequest extends Error {
  override name = "BadRequest";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function parseHead(text: string): Head {
  const lines = text.split(/\r?\n/);
  const [method, target, proto, extra] = (lines[0] ?? "").split(" ");
  if (!method || !target || !proto || extra !== undefined || !TOKEN.test(method)) {
    throw new BadRequest(400, "malformed request line");
  }
  if (proto !== "HTTP/1.1" && proto !== "HTTP/1.0") {
    throw new BadRequest(505, "HTTP version not supported");
  }
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new BadRequest(400, "malformed header line");
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch {
      throw new BadRequest(400, "malformed header value");
    }
  }
  return { method, target, version: proto === "HTTP/1.1" ? "1.1" : "1.0", headers };
}

function requestUrl(head: Head): string {
  if (/^https?:\/\//i.test(head.target)) return head.target;
  if (!head.target.startsWith("/")) throw new BadRequest(400, "unsupported request target");
  const host = head.headers.get("host") || "localhost";
  try {
    return new URL(head.target, `http://${host}`).href;
  } catch {
    throw new BadRequest(400, "bad host header");
  }
}

interface RequestBody {
  body: ReadableStream<Uint8Array> | null;
  /** Read to the end (by the handler or by `skip`). */
  done(): boolean;
  /**
   * Discards the unread rest straight from the connection (whatever the handler did with the
   * stream); false when that is not possible: chunked, too much left, or a read in progress.
   */
  skip(maxBytes: number): Promise<boolean>;
}

/** The request body as a stream; `done()` says whether it was read to the end. */
function requestBody(
  c: Connection,
  head: Head,
  idleTimeoutMs: number,
): RequestBody {
  const te = head.headers.get("transfer-encoding");
  const cl = head.headers.get("content-length");
  if (te !== null && cl !== null) throw new BadRequest(400, "both transfer-encoding and length");
  if (te !== null && te.toLowerCase() !== "chunked") {
    throw new BadRequest(501, "unsupported transfer-encoding");
  }
  let length = 0;
  if (cl !== null) {
    if (!/^\d{1,15}$/.test(cl)) throw new BadRequest(400, "bad content-length");
    length = Number(cl);
  }
  const chunked = te !== null;
  if (!chunked && length === 0) {
    return { body: null, done: () => true, skip: () => Promise.resolve(true) };
  }
  let continued = head.headers.get("expect")?.toLowerCase() !== "100-continue";
  let left = length;
  let chunkLeft = 0;
  let finished = false;
  let pulling = false;
  async function more(): Promise<void> {
    c.deadline(idleTimeoutMs);
    const ok = await c.fill();
    c.clearDeadline();
    if (!ok) throw new Closed("connection closed during the request body");
  }
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      pulling = true;
      try {
        if (!continued) {
          continued = true;
          await c.write(encoder.encode("HTTP/1.1 100 Continue\r\n\r\n"));
        }
        if (!chunked) {
          if (c.buffered === 0) await more();
          const bytes = c.take(left);
          left -= bytes.length;
          controller.enqueue(bytes.slice());
          if (left === 0) {
            finished = true;
            controller.close();
          }
          return;
        }
        if (chunkLeft === 0) {
          const sizeLine = await c.line(4096);
          if (sizeLine === null) throw new Closed("connection closed during the request body");
          const size = parseInt(sizeLine.split(";")[0]!.trim(), 16);
          if (!Number.isSafeInteger(size) || size < 0) {
            throw new BadRequest(400, "bad chunk size");
          }
          if (size === 0) {
            // Trailers, then the empty line.
            for (;;) {
              const trailer = await c.line(8192);
              if (trailer === null) throw new Closed("connection closed in trailers");
              if (trailer === "") break;
            }
            finished = true;
            controller.close();
            return;
          }
          chunkLeft = size;
        }
        if (c.buffered === 0) await more();
        const bytes = c.take(chunkLeft);
        chunkLeft -= bytes.length;
        if (chunkLeft === 0) {
          const end = await c.line(2);
          if (end !== "") throw new BadRequest(400, "bad chunk terminator");
        }
        controller.enqueue(bytes.slice());
      } catch (err) {
        controller.error(err);
      } finally {
        pulling = false;
      }
    },
  });
  async function skip(maxBytes: number): Promise<boolean> {
    if (finished) return true;
    // Not started: the client waits for 100 Continue and will not send the body at all.
    if (chunked || pulling || left > maxBytes || !continued) return false;
    finished = true;
    while (left > 0) {
      if (c.buffered === 0) await more();
      left -= c.take(left).length;
    }
    return true;
  }
  return { body, done: () => finished, skip };
}

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "Status";
}

const STATUS_TEXT: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

function headText(status: number, headers: Headers, extra: string[]): Uint8Array {
  let text = `HTTP/1.1 ${status} ${statusText(status)}\r\n`;
  for (const [name, value] of headers) {
    if (name === "set-cookie") continue;
    text += `${name}: ${value}\r\n`;
  }
  for (const cookie of headers.getSetCookie()) text += `set-cookie: ${cookie}\r\n`;
  for (const line of extra) text += `${line}\r\n`;
  return encoder.encode(text + "\r\n");
}

const PENDING = Symbol("pending");

/**
 * Writes `res`; returns whether the connection may be kept. A body is sent with its
 * content-length when it is complete at once (a plain JSON answer), chunked otherwise.
 */
async function writeResponse(
  c: Connection,
  res: Response,
  head: Head,
  keepAlive: boolean,
): Promise<boolean> {
  const headers = new Headers(res.headers);
  headers.delete("connection");
  headers.delete("transfer-encoding");
  headers.delete("keep-alive");
  const noBody = head.method === "HEAD" || res.status === 204 || res.status === 304 ||
    res.status < 200;
  if (!headers.has("date")) headers.set("date", new Date().toUTCString());
  const connection = keepAlive ? [] : ["connection: close"];
  if (!res.body || noBody) {
    await res.body?.cancel().catch(() => {});
    if (!noBody) headers.set("content-length", "0");
    await c.write(headText(res.status, headers, connection));
    return keepAlive;
  }
  const reader = res.body.getReader();
  // A client that goes away mid-stream cancels the body at once (not at the next write).
  const onClose = () => reader.cancel().catch(() => {});
  c.closedSignal.addEventListener("abort", onClose, { once: true });
  // A body that fails (e.g. an event stream dropping a stalled reader) ends the connection even
  // while a write waits for that reader: what is already in its socket buffer stays readable.
  reader.closed.catch(() => c.close());
  try {
    const declared = headers.get("content-length");
    if (declared !== null) {
      await c.write(headText(res.status, headers, connection));
      await pump(c, reader, false);
      return keepAlive;
    }
    // What the body has ready now: all of it for a plain answer (sent with its length), the
    // first chunks for a stream. A stream with nothing ready gets its head at once.
    const parts: Uint8Array[] = [];
    let total = 0;
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
    for (let first = true;; first = false) {
      const next = reader.read();
      // The first read of even a plain body takes a few ticks: give it one macrotask.
      const now = first
        ? await readySoon(next)
        : await Promise.race([next, Promise.resolve(PENDING)]);
      if (now === PENDING) {
        pending = next;
        break;
      }
      const result = now as ReadableStreamReadResult<Uint8Array>;
      if (result.done) break;
      parts.push(result.value);
      total += result.value.byteLength;
    }
    if (pending === null) {
      headers.set("content-length", String(total));
      await c.write(concat([headText(res.status, headers, connection), ...parts]));
      return keepAlive;
    }
    // A stream (SSE, a proxied reply): chunked from here on.
    await c.write(concat([
      headText(res.status, headers, [...connection, "transfer-encoding: chunked"]),
      ...parts.map(chunkFrame),
    ]));
    await pump(c, reader, true, pending);
    await c.write(encoder.encode("0\r\n\r\n"));
    return keepAlive;
  } catch (err) {
    reader.cancel(err).catch(() => {});
    return false;
  } finally {
    c.closedSignal.removeEventListener("abort", onClose);
  }
}

async function readySoon<T>(next: Promise<T>): Promise<T | typeof PENDING> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      next,
      new Promise<typeof PENDING>((r) => (timer = setTimeout(() => r(PENDING), 0))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bytes of a body read ahead while a write is in progress (back-pressure beyond that). */
const READ_AHEAD_BYTES = 256 * 1024;

/**
 * Copies the body to the connection. Reading runs ahead of writing by up to
 * `READ_AHEAD_BYTES` (the producer, e.g. an event stream, sees its data taken while the socket
 * drains), and whatever queued meanwhile goes out in one write.
 */
async function pump(
  c: Connection,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  chunked: boolean,
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null,
): Promise<void> {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: unknown = null;
  const wake: { writer: (() => void) | null; reader: (() => void) | null } = {
    writer: null,
    reader: null,
  };
  const reading = (async () => {
    try {
      for (;;) {
        while (queued >= READ_AHEAD_BYTES) {
          await new Promise<void>((r) => (wake.reader = r));
        }
        const result = await (pending ?? reader.read());
        pending = null;
        if (result.done) break;
        if (result.value.byteLength === 0) continue;
        queue.push(result.value);
        queued += result.value.byteLength;
        wake.writer?.();
      }
    } catch (err) {
      failure = err ?? new Error("body failed");
    } finally {
      ended = true;
      wake.writer?.();
    }
  })();
  while (true) {
    if (queue.length === 0) {
      if (ended) break;
      await new Promise<void>((r) => (wake.writer = r));
      wake.writer = null;
      continue;
    }
    const batch = queue.splice(0);
    const bytes = batch.reduce((n, b) => n + b.byteLength, 0);
    try {
      await c.write(chunked ? chunkFrame(concat(batch)) : concat(batch));
    } catch (err) {
      reader.cancel(err).catch(() => {});
      await reading;
      throw err;
    }
    queued -= bytes;
    const wakeReader = wake.reader;
    wake.reader = null;
    wakeReader?.();
  }
  await reading;
  if (failure !== null) throw failure;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function chunkFrame(bytes: Uint8Array): Uint8Array {
  const size = encoder.encode(bytes.byteLength.toString(16) + "\r\n");
  const out = new Uint8Array(size.length + bytes.byteLength + 2);
  out.set(size);
  out.set(bytes, size.length);
  out.set(CRLF, size.length + bytes.byteLength);
  return out;
}

async function watchClose(c: Connection, maxBuffered: number): Promise<void> {
  while (c.busy && !c.closed && c.buffered <= maxBuffered) {
    if (!(await c.fill())) {
      c.close();
      return;
    }
  }
}

/** A lingering close (see {@linkcode LINGER_MS}): no more writes, the rest of the body discarded. */
async function linger(c: Connection): Promise<void> {
  try {
    await c.conn.closeWrite();
  } catch {
    return;
  }
  const timer = setTimeout(() => c.close(), LINGER_MS);
  const buf = new Uint8Array(64 * 1024);
  try {
    for (let total = 0; total < LINGER_MAX_BYTES;) {
      const n = await c.conn.read(buf);
      if (n === null) break;
      total += n;
    }
  } catch {
    // Closed by the timer or by the client: either way the lingering is over.
  } finally {
    clearTimeout(timer);
  }
}

function plain(status: number, message: string, close = true): Uint8Array {
  const body = encoder.encode(JSON.stringify({ error: { status, message } }));
  return new Uint8Array([
    ...headText(
      status,
      new Headers({ "content-type": "application/json", "content-length": String(body.length) }),
      close ? ["connection: close"] : [],
    ),
    ...body,
  ]);
}

function defaultOnError(): Response {
  return Response.json({ error: { status: 500, message: "Internal error" } }, { status: 500 });
}

/**
 * Listens on the Unix socket `options.path` and serves `options.handler` on it with the limits
 * above. Throws when the path cannot be bound.
 *
 * @example
 * ```ts ignore
 * const server = serveUnix({
 *   path: "/tmp/x.sock", name: "rpc", handler: () => new Response("hi"),
 *   maxConnections: 256, headerTimeoutMs: 10_000, idleTimeoutMs: 30_000,
 * });
 * await server.shutdown();
 * ```
 */
export function serveUnix(options: ServeUnixOptions): HttpServer<Deno.UnixAddr> {
  return serveListener(Deno.listen({ transport: "unix", path: options.path }), options);
}

/** Like {@linkcode serveUnix}, on a TCP address (the admin's `--listen` mode). */
export function serveTcp(options: ServeTcpOptions): HttpServer<Deno.NetAddr> {
  return serveListener(Deno.listen({ hostname: options.hostname, port: options.port }), options);
}

/** Serves `options.handler` on an open listener with the limits above; owns the listener. */
export function serveListener<A extends Deno.Addr>(
  listener: Deno.Listener<Deno.Conn, A>,
  options: ServeOptions,
): HttpServer<A> {
  const log = options.log ?? (() => {});
  const onError = options.onError ?? defaultOnError;
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const logIntervalMs = options.logIntervalMs ?? 10_000;
  const open = new Set<Connection>();
  const stats: Omit<ServerStats, "connections"> = {
    accepted: 0,
    shed: 0,
    evicted: 0,
    accept_errors: 0,
    timed_out: 0,
  };
  let stopping = false;
  const lastLogged = { accept: 0, shed: 0 };
  const suppressed = { accept: 0, shed: 0 };

  /** Logs at most once per interval per kind, with the number of events folded into it. */
  function throttled(kind: "accept" | "shed", message: string, fields: Record<string, unknown>) {
    const now = Date.now();
    if (now - lastLogged[kind] < logIntervalMs) {
      suppressed[kind]++;
      return;
    }
    log("warn", message, {
      socket: options.name,
      ...fields,
      since_last_log: suppressed[kind],
      ...stats,
      connections: open.size,
    });
    lastLogged[kind] = now;
    suppressed[kind] = 0;
  }

  function oldestIdle(): Connection | null {
    let oldest: Connection | null = null;
    for (const c of open) {
      if (!c.busy && (oldest === null || c.idleSince < oldest.idleSince)) oldest = c;
    }
    return oldest;
  }

  async function shed(conn: Deno.Conn): Promise<void> {
    stats.shed++;
    throttled("shed", "connection limit reached; shedding new connections", {
      max_connections: options.maxConnections,
    });
    try {
      // Never waits on a client that does not read: the kernel buffer takes this small answer.
      await Promise.race([
        conn.write(plain(503, "Too many connections; retry later")),
        new Promise((r) => setTimeout(r, 50)),
      ]);
    } catch {
      // gone already
    }
    try {
      conn.close();
    } catch {
      // closed
    }
  }

  async function serveConnection(c: Connection): Promise<void> {
    let idleWait = false;
    c.onTimeout = () => {
      stats.timed_out++;
    };
    try {
      for (;;) {
        // Head: the header timeout runs from accept, or from the first byte after a keep-alive
        // pause (which the idle timeout bounds).
        if (idleWait && c.buffered === 0) {
          c.deadline(options.idleTimeoutMs);
          if (!(await c.fill())) return;
        }
        c.deadline(options.headerTimeoutMs);
        let end = c.headEnd();
        while (end < 0) {
          if (c.buffered > maxHeaderBytes) {
            c.clearDeadline();
            await c.write(plain(431, "Request head too large")).catch(() => {});
            return;
          }
          if (!(await c.fill())) return;
          end = c.headEnd();
        }
        c.clearDeadline();
        if (end > maxHeaderBytes) {
          await c.write(plain(431, "Request head too large")).catch(() => {});
          return;
        }
        let head: Head;
        let url: string;
        let body: ReturnType<typeof requestBody>;
        try {
          head = parseHead(decoder.decode(c.take(end)).replace(/^(\r?\n)+/, ""));
          url = requestUrl(head);
          body = requestBody(c, head, options.idleTimeoutMs);
        } catch (err) {
          const status = err instanceof BadRequest ? err.status : 400;
          await c.write(plain(status, err instanceof Error ? err.message : "bad request"))
            .catch(() => {});
          return;
        }
        const connHeader = head.headers.get("connection")?.toLowerCase() ?? "";
        let keepAlive = head.version === "1.1"
          ? !connHeader.includes("close")
          : connHeader.includes("keep-alive");
        const init: RequestInit & { duplex?: "half" } = {
          method: head.method,
          headers: head.headers,
          signal: c.closedSignal,
        };
        if (body.body && head.method !== "GET" && head.method !== "HEAD") {
          init.body = body.body;
          init.duplex = "half";
        }
        let res: Response;
        c.busy = true;
        // With the body read, a read that ends means the client left: close at once so a
        // streaming response (SSE) is cancelled now, not at its next write.
        if (body.done()) void watchClose(c, maxHeaderBytes);
        try {
          res = await options.handler(new Request(url, init));
        } catch (err) {
          if (c.closed) return;
          try {
            res = onError(err);
          } catch {
            res = defaultOnError();
          }
        }
        keepAlive = await writeResponse(c, res, head, keepAlive && !stopping);
        c.busy = false;
        c.idleSince = Date.now();
        if (c.closed) return;
        if (!keepAlive) {
          if (!body.done()) await linger(c);
          return;
        }
        if (!(await body.skip(MAX_DRAIN_BYTES))) {
          await linger(c);
          return;
        }
        idleWait = true;
      }
    } catch {
      // A broken connection ends here; the handler's failures were answered above.
    } finally {
      c.close();
      open.delete(c);
      if (stopping && open.size === 0) drained.resolve();
    }
  }

  const drained = Promise.withResolvers<void>();
  const acceptLoop = (async () => {
    let backoff = 10;
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (stopping || err instanceof Deno.errors.BadResource) break;
        stats.accept_errors++;
        throttled("accept", "cannot accept a connection; retrying", {
          error: err instanceof Error ? err.message : String(err),
        });
        // EMFILE leaves the connection queued: wait for fds to come back instead of spinning.
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1_000);
        continue;
      }
      backoff = 10;
      stats.accepted++;
      if (open.size >= options.maxConnections) {
        const idle = oldestIdle();
        if (idle) {
          stats.evicted++;
          throttled("shed", "connection limit reached; closing the longest-idle connections", {
            max_connections: options.maxConnections,
          });
          idle.close();
          open.delete(idle);
        }
      }
      if (open.size >= options.maxConnections) {
        // Awaited: shed connections hold descriptors too, so they are closed one at a time.
        await shed(conn);
        continue;
      }
      const c = new Connection(conn);
      open.add(c);
      void serveConnection(c);
    }
  })();

  let closing: Promise<void> | null = null;
  return {
    addr: listener.addr,
    stats: () => ({ ...stats, connections: open.size }),
    shutdown(graceMs = 3_000) {
      closing ??= (async () => {
        stopping = true;
        try {
          listener.close();
        } catch {
          // closed
        }
        await acceptLoop;
        for (const c of open) if (!c.busy) c.close();
        if (open.size > 0) {
          await Promise.race([drained.promise, new Promise((r) => setTimeout(r, graceMs))]);
          for (const c of open) c.close();
        }
      })();
      return closing;
    },
  };
}
