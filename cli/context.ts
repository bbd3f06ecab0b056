/**
 * What every command gets: the environment, the resolved paths, output streams with colour
 * decided once, and a lazily opened SDK client over rpc.sock. `main.ts` builds the real one;
 * tests build their own with {@linkcode createContext}.
 * @module
 */
import { type Env, type Paths, resolvePaths } from "@hero/core/config";
import { CLI_COMMAND } from "@hero/core/models";
import { type Client, createClient, RpcError } from "@hero/sdk";
import { type Colors, createColors } from "./color.ts";
import { unixFetch } from "./unix_fetch.ts";

/** Where a command writes. */
export interface Output {
  /** Writes `text` as is (add the newline yourself). */
  write(text: string): void;
  /** Writes bytes as they are (exports are byte for byte). */
  writeBytes(bytes: Uint8Array): void;
  /** Whether this stream is a terminal. */
  isTerminal: boolean;
}

/** The command's world. */
export interface CliContext {
  env: Env;
  paths: Paths;
  stdout: Output;
  stderr: Output;
  /** Colours for stdout. */
  color: Colors;
  /** Whether stdin is a terminal (login needs one). */
  stdinIsTerminal: boolean;
  /** All of stdin as text (a piped prompt or key). */
  readStdin(): Promise<string>;
  verbose: boolean;
  /** The SDK client over rpc.sock (opened on first use). */
  client(): Client;
  /** A plain HTTP request to the server over rpc.sock (`path` like `/export/<id>.jsonl`). */
  fetch(path: string): Promise<Response>;
  /** Releases the socket client. */
  close(): void;
}

/** Options of {@linkcode createContext}. */
export interface ContextOptions {
  env: Env;
  stdout: Output;
  stderr: Output;
  stdinIsTerminal?: boolean;
  /** Default: Deno's stdin. */
  readStdin?: () => Promise<string>;
  verbose?: boolean;
  /** Force colour on or off (default: stdout is a terminal and NO_COLOR is unset). */
  color?: boolean;
}

/** The server could not be reached over its socket. */
export class ServerUnreachableError extends Error {
  override name = "ServerUnreachableError";
}

/**
 * Turns the SDK's transport failure into a message naming the socket and what to do; other
 * errors pass through.
 */
export function explainRpcError(err: unknown, socket: string): unknown {
  if (
    err instanceof RpcError && err.code === -32603 && err.data === undefined &&
    err.message.startsWith("Cannot reach the service")
  ) {
    return new ServerUnreachableError(
      `Cannot reach hero_orchestrator_server at ${socket}: is it running? ` +
        `(check with \`${CLI_COMMAND} doctor\`)`,
      { cause: err },
    );
  }
  return err;
}

/** Builds a context. */
export function createContext(options: ContextOptions): CliContext {
  const paths = resolvePaths(options.env);
  const colorOn = options.color ??
    (options.stdout.isTerminal && !options.env.NO_COLOR);
  let transport: ReturnType<typeof unixFetch> | null = null;
  let client: Client | null = null;
  return {
    env: options.env,
    paths,
    stdout: options.stdout,
    stderr: options.stderr,
    color: createColors(colorOn),
    stdinIsTerminal: options.stdinIsTerminal ?? false,
    readStdin: options.readStdin ?? (() => new Response(Deno.stdin.readable).text()),
    verbose: options.verbose ?? false,
    client() {
      if (!client) {
        transport ??= unixFetch(paths.rpcSocket);
        client = createClient({ fetch: transport.fetch });
      }
      return client;
    },
    fetch(path) {
      transport ??= unixFetch(paths.rpcSocket);
      return transport.fetch(`http://localhost${path}`);
    },
    close() {
      transport?.close();
      transport = null;
      client = null;
    },
  };
}

/** An {@linkcode Output} over a Deno stream. */
export function denoOutput(stream: typeof Deno.stdout | typeof Deno.stderr): Output {
  const encoder = new TextEncoder();
  const writeBytes = (bytes: Uint8Array) => {
    let written = 0;
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  };
  return {
    write(text) {
      writeBytes(encoder.encode(text));
    },
    writeBytes,
    isTerminal: stream.isTerminal(),
  };
}

/** An {@linkcode Output} collecting text (tests). */
export function memoryOutput(isTerminal = false): Output & { text(): string } {
  let buffer = "";
  const decoder = new TextDecoder();
  return {
    write(text) {
      buffer += text;
    },
    writeBytes(bytes) {
      buffer += decoder.decode(bytes, { stream: true });
    },
    isTerminal,
    text: () => buffer,
  };
}
