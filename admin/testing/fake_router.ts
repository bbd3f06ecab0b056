/**
 * A hero_router stand-in for the widget tests (tests only): one loopback origin where
 * `/hero_orchestrator/admin/*` goes to admin.sock (prefix stripped, `X-Forwarded-Prefix` and the
 * router's `X-Hero-Context` set, as hero_router does), `/mcp/<service>` to fake MCP servers, and
 * anything else to handlers the test mounts (host pages of other services, a fake hero_voice).
 * Every request is recorded.
 * @module
 */

/** One request the router saw. */
export interface RoutedRequest {
  method: string;
  path: string;
  at: number;
}

/** A handler for a path prefix. */
export type Mount = (req: Request, rest: string) => Response | Promise<Response>;

/** Options of {@linkcode startFakeRouter}. */
export interface FakeRouterOptions {
  /** admin.sock of hero_orchestrator. */
  adminSocket: string;
  /** What the router injects as `X-Hero-Context` on requests to hero_orchestrator. */
  heroContext?: string;
}

/** A running router. */
export interface FakeRouter extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: also what `HERO_ROUTER_URL` should be for MCP. */
  origin: string;
  requests: RoutedRequest[];
  /** Routes `/<prefix>/*` (longest prefix wins) to `handler`; `rest` is the path after it. */
  mount(prefix: string, handler: Mount): void;
  /** Requests whose path starts with `prefix`. */
  count(prefix: string, method?: string): number;
}

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
];

const ADMIN_PREFIX = "/hero_orchestrator/admin";

/** Starts the router on 127.0.0.1. */
export async function startFakeRouter(options: FakeRouterOptions): Promise<FakeRouter> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: options.adminSocket } });
  const mounts = new Map<string, Mount>();
  const requests: RoutedRequest[] = [];

  async function toAdmin(req: Request, rest: string, search: string): Promise<Response> {
    const headers = new Headers(req.headers);
    for (const h of HOP_BY_HOP) headers.delete(h);
    // hero_router owns these: a client's own values never pass.
    headers.delete("x-hero-context");
    headers.delete("x-hero-claims");
    headers.delete("x-hero-user");
    headers.set("x-forwarded-prefix", ADMIN_PREFIX);
    headers.set("x-forwarded-host", new URL(req.url).host);
    if (options.heroContext) headers.set("x-hero-context", options.heroContext);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const answer = await fetch(`http://localhost${rest}${search}`, {
      method: req.method,
      headers,
      body: hasBody ? await req.arrayBuffer() : null,
      redirect: "manual",
      client,
    });
    const out = new Headers(answer.headers);
    for (const h of HOP_BY_HOP) out.delete(h);
    return new Response(answer.body, { status: answer.status, headers: out });
  }

  const { promise: bound, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: resolve }, (req) => {
    const url = new URL(req.url);
    requests.push({ method: req.method, path: url.pathname, at: Date.now() });
    if (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`)) {
      return toAdmin(req, url.pathname.slice(ADMIN_PREFIX.length) || "/", url.search);
    }
    let best: string | null = null;
    for (const prefix of mounts.keys()) {
      if (
        (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) &&
        (best === null || prefix.length > best.length)
      ) best = prefix;
    }
    if (best === null) return new Response("router: no such service", { status: 404 });
    return mounts.get(best)!(req, url.pathname.slice(best.length) || "/");
  });
  const addr = await bound;
  return {
    origin: `http://127.0.0.1:${addr.port}`,
    requests,
    mount(prefix, handler) {
      mounts.set(prefix.replace(/\/+$/, ""), handler);
    },
    count(prefix, method) {
      return requests.filter((r) => r.path.startsWith(prefix) && (!method || r.method === method))
        .length;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      client.close();
    },
  };
}

/**
 * A host page of another Hero service embedding widgets, with hostile global CSS (large serif red
 * text, lime buttons) to show that nothing leaks into the widget.
 */
export function hostPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
  body { font-family: serif; font-size: 22px; color: rgb(255, 0, 0); letter-spacing: 3px; }
  button { background: rgb(0, 255, 0) !important; font-size: 30px; }
  p { margin: 40px; }
  nav { display: flex; gap: 24px; justify-content: flex-end; padding: 8px; }
</style>
<script src="/hero_orchestrator/admin/widget/hero-agent-widget.js" defer></script>
</head>
<body>
${body}
</body>
</html>
`;
}
