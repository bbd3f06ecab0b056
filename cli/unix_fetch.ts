/**
 * A `fetch` over a Unix socket, injected into the SDK: requests go to `http://localhost/…`
 * through `Deno.createHttpClient({ proxy: { transport: "unix", path } })`. Needs
 * `--allow-net=unix:<path>,localhost:80` (Deno checks the URL host too).
 * @module
 */

/** A fetch bound to one socket. Call `close()` when done. */
export interface UnixFetch {
  fetch(input: string, init?: RequestInit): Promise<Response>;
  close(): void;
}

/**
 * Creates a fetch bound to the socket at `path`.
 *
 * @example
 * ```ts ignore
 * const t = unixFetch("/run/hero/rpc.sock");
 * const res = await t.fetch("http://localhost/health");
 * t.close();
 * ```
 */
export function unixFetch(path: string): UnixFetch {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  return {
    fetch: function fetchOverSocket(input, init = {}) {
      return fetch(input, { ...init, client });
    },
    close: () => client.close(),
  };
}
