/**
 * Test helpers for the admin (tests only): built assets in a private temp directory, the admin
 * binary as a child process with the production permission set, and a hero_router-like proxy
 * that mounts admin.sock under a prefix. The server side comes from `server/testing/daemon.ts`.
 * @module
 */
import { buildAdmin } from "@hero/tools/build_admin";
import { runArgs } from "@hero/tools/permissions";
import { DENO_DIR } from "@hero/server/testing/daemon";

import { type Browser, chromium } from "playwright-core";
export { DENO_DIR, startInProcess, tempEnv, waitFor } from "@hero/server/testing/daemon";

export const REPO_ROOT = new URL("../../", import.meta.url).pathname;
export const ADMIN_MAIN = new URL("../main.ts", import.meta.url).pathname;

let built: Promise<URL> | null = null;

/** Builds the browser assets once per test process, into a temp dir (no races on admin/dist). */
export function tempDist(): Promise<URL> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "hero_admin_dist_" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
    await buildAdmin(dir);
    return new URL(`file://${dir}/`);
  })();
  return built;
}

/** Makes sure `admin/dist` exists for the binary (built only when missing). */
export async function ensureRepoDist(): Promise<void> {
  try {
    await Deno.stat(`${REPO_ROOT}admin/dist/boot.js`);
    await Deno.stat(`${REPO_ROOT}admin/dist/app.css`);
  } catch {
    await buildAdmin(`${REPO_ROOT}admin/dist`);
  }
}

/** A running admin child process. */
export interface AdminChild extends AsyncDisposable {
  child: Deno.ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Runs `admin/main.ts` with the production permissions: `-P=admin` plus the flags
 * `tools/permissions.ts` computes for this environment (and `--listen` address).
 */
export function spawnAdmin(
  env: Record<string, string>,
  args: string[] = [],
  options: { umask?: string } = {},
): AdminChild {
  const deno = Deno.execPath();
  const at = args.indexOf("--listen");
  const listen = at >= 0 ? args[at + 1] : undefined;
  let run: string[];
  try {
    run = runArgs("admin", env, listen ? { listen } : {});
  } catch {
    run = ["run", "-P=admin", "--no-prompt", ADMIN_MAIN]; // an invalid --listen: main says why
  }
  const quoted = [deno, ...run, ...args]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const child = new Deno.Command("sh", {
    args: ["-c", `${options.umask ? `umask ${options.umask}; ` : ""}exec ${quoted}`],
    env: { ...env, DENO_DIR, NO_COLOR: "1" },
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const decoder = new TextDecoder();
  const drained = Promise.all([
    (async () => {
      for await (const c of child.stdout) out += decoder.decode(c, { stream: true });
    })(),
    (async () => {
      for await (const c of child.stderr) err += decoder.decode(c, { stream: true });
    })(),
  ]);
  const status = child.status.then(async (s) => {
    await drained;
    return s;
  });
  let exited = false;
  status.then(() => (exited = true));
  const handle: AdminChild = {
    child,
    stdout: () => out,
    stderr: () => err,
    status,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
      return await status;
    },
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}

/** Waits until the child logged "listening" (or fails with its output when it exits first). */
export async function waitListening(admin: AdminChild, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  admin.status.then(() => (exited = true));
  while (!admin.stderr().includes('"message":"listening"')) {
    if (exited) throw new Error(`The admin exited early: ${admin.stderr()}`);
    if (Date.now() > deadline) throw new Error(`The admin did not start: ${admin.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A hero_router-like mount: strips the prefix and sets `X-Forwarded-Prefix`. */
export interface PrefixProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port><prefix>/` */
  url: string;
  origin: string;
}

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
];

/** Starts the proxy on loopback TCP in front of the Unix socket `socketPath`. */
export async function prefixProxy(socketPath: string, prefix: string): Promise<PrefixProxy> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  const { promise: bound, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: resolve,
  }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
      return new Response("router: no such service", { status: 404 });
    }
    const rest = url.pathname.slice(prefix.length) || "/";
    const headers = new Headers(req.headers);
    for (const h of HOP_BY_HOP) headers.delete(h);
    headers.set("x-forwarded-prefix", prefix);
    headers.set("x-forwarded-host", url.host);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const answer = await fetch(`http://localhost${rest}${url.search}`, {
      method: req.method,
      headers,
      body: hasBody ? await req.arrayBuffer() : null,
      redirect: "manual",
      client,
    });
    const out = new Headers(answer.headers);
    for (const h of HOP_BY_HOP) out.delete(h);
    return new Response(answer.body, { status: answer.status, headers: out });
  });
  const addr = await bound;
  const origin = `http://127.0.0.1:${addr.port}`;
  return {
    url: `${origin}${prefix}/`,
    origin,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      client.close();
    },
  };
}

/** Debian's chromium (`HERO_CHROMIUM` overrides); playwright-core has no browser of its own. */
export const CHROMIUM = Deno.env.get("HERO_CHROMIUM") ?? "/usr/bin/chromium";

/** Headless chromium with the flags this closed network needs, plus `extraArgs`. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}
