/**
 * A `fetch` over a Unix socket (Deno only), to inject into the SDK: requests go to
 * `http://localhost/...` through `Deno.createHttpClient({ proxy: { transport: "unix", path } })`.
 * @module
 */

export interface UnixFetch {
  fetch: typeof fetch;
  close(): void;
}

/** Creates a fetch bound to the socket at `path`. Call `close()` when done. */
export function unixFetch(path: string): UnixFetch {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  return {
    fetch: (input, init) => fetch(input, { ...init, client }),
    close: () => client.close(),
  };
}
