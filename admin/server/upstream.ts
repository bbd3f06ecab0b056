/**
 * The admin's only way to the server: HTTP over rpc.sock (`Deno.createHttpClient` with a Unix
 * proxy). Requests go to `http://localhost/<path>`.
 * @module
 */

/** A fetch bound to the server's socket. */
export interface Upstream {
  /** Fetches `path` (e.g. `/rpc`) on the server. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Releases the connection pool. */
  close(): void;
}

/** An {@linkcode Upstream} over the Unix socket at `socketPath`. */
export function unixUpstream(socketPath: string): Upstream {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  return {
    fetch: (path, init = {}) => fetch(`http://localhost${path}`, { ...init, client }),
    close: () => client.close(),
  };
}

/** Text of an unknown error, for logs and messages. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
