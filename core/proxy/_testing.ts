/** Test helpers for the proxy: a temp store with agents, a unix-socket fetch, raw requests. */
import type { LogLevel } from "@hero/service/log";
import { newId } from "../models/mod.ts";
import { openStore, type Store } from "../store/mod.ts";
import { mintProxyToken } from "./token.ts";

export interface ProxyFixture extends AsyncDisposable {
  dir: string;
  store: Store;
  socketPath: string;
  /** A running agent with a live token. */
  agent(kind?: "standard" | "shadow"): { id: string; token: string; hash: string };
  /** fetch through the socket (`http://localhost/...`). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Writes raw bytes to the socket, returns the whole answer (connection: close). */
  raw(request: string): Promise<string>;
}

export async function proxyFixture(): Promise<ProxyFixture> {
  const dir = await Deno.makeTempDir({ prefix: "hero_proxy_" });
  const store = openStore(`${dir}/db.sqlite`);
  const socketPath = `${dir}/s/proxy.sock`;
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  return {
    dir,
    store,
    socketPath,
    agent(kind = "standard") {
      const id = newId();
      store.insertAgent({ id, prompt: "p", cwd: dir, model: "m", effort: "low", kind });
      store.transition(id, "running", {});
      const { token, hash } = mintProxyToken();
      store.insertProxyToken(id, hash, Date.now() + 60_000);
      return { id, token, hash };
    },
    fetch(path, init) {
      return fetch(`http://localhost${path}`, { ...init, client });
    },
    async raw(request) {
      const conn = await Deno.connect({ transport: "unix", path: socketPath });
      try {
        await conn.write(new TextEncoder().encode(request));
        let out = "";
        const buf = new Uint8Array(65536);
        // Until the server closes, or 1 s after the last byte (a kept-alive connection).
        for (;;) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const n = await Promise.race([
            conn.read(buf),
            new Promise<"idle">((r) => (timer = setTimeout(() => r("idle"), 1000))),
          ]).finally(() => clearTimeout(timer));
          if (n === null || n === "idle") break;
          out += new TextDecoder().decode(buf.subarray(0, n));
        }
        return out;
      } finally {
        try {
          conn.close();
        } catch {
          // closed by the server
        }
      }
    },
    async [Symbol.asyncDispose]() {
      client.close();
      store.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Collects log records. */
export function captureLog() {
  const records: Array<{ level: string; message: string } & Record<string, unknown>> = [];
  return {
    records,
    log: (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
      records.push({ level, message, ...fields });
    },
    text: () => records.map((r) => JSON.stringify(r)).join("\n"),
  };
}

/** A Messages API request with an agent's proxy token (`maxTokens`, streamed or not). */
export function messagesRequest(
  token: string,
  options: { stream?: boolean; maxTokens?: number } = {},
): RequestInit {
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      model: "claude-haiku-4-5",
      max_tokens: options.maxTokens ?? 10,
      ...(options.stream !== undefined ? { stream: options.stream } : {}),
      messages: [{ role: "user", content: "hi" }],
    }),
  };
}
