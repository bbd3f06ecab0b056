/**
 * Per-agent home MCP config (hero_conventions.md §6): for an agent with `home_mcp = S`, claude gets
 * `--mcp-config <file>` naming one HTTP MCP server, S, at the hero_router gateway for S, with the
 * creator's `X-Hero-Context` header when there was one. The file lives in the agent's private
 * state directory (`<state>/agents/<id>/`, 0700) and is written 0600 before every spawn.
 * @module
 */
import { writePrivateFileSync } from "@hero/service/private_file";
import { type HomeMcpSettings, homeMcpUrl } from "../config/mod.ts";

/** The JSON claude reads with `--mcp-config`. */
export interface McpConfig {
  mcpServers: Record<string, { type: "http"; url: string; headers?: Record<string, string> }>;
}

/** Voice turns: appended to the system prompt so the reply reads well aloud. */
export const VOICE_SYSTEM_PROMPT =
  "The user is talking to you by voice and hears your reply read aloud sentence by sentence. " +
  "Answer in short, plain spoken sentences: no markdown, tables, lists or code unless asked, " +
  "and put the answer first.";

const AGENT_DIR = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The config for home service `service`.
 *
 * @example
 * ```ts
 * import { homeMcpConfig } from "./home_mcp.ts";
 * import { resolveHomeMcpSettings } from "../config/mod.ts";
 * homeMcpConfig(resolveHomeMcpSettings({}), "hero_books", "ctx-1");
 * // { mcpServers: { hero_books: { type: "http", url: "http://127.0.0.1:9988/mcp/hero_books",
 * //   headers: { "X-Hero-Context": "ctx-1" } } } }
 * ```
 */
export function homeMcpConfig(
  settings: Pick<HomeMcpSettings, "routerUrl" | "pathTemplate">,
  service: string,
  heroContext: string | null,
): McpConfig {
  return {
    mcpServers: {
      [service]: {
        type: "http",
        url: homeMcpUrl(settings, service),
        ...(heroContext ? { headers: { "X-Hero-Context": heroContext } } : {}),
      },
    },
  };
}

/** `<stateDir>/<agentId>`; throws on an id that is not a plain path segment. */
export function agentStateDir(stateDir: string, agentId: string): string {
  if (!AGENT_DIR.test(agentId)) {
    throw new RangeError(`Cannot locate the state of agent "${agentId}": not a valid id`);
  }
  return `${stateDir}/${agentId}`;
}

/**
 * Writes `config` to `<stateDir>/<agentId>/mcp.json` (directories 0700, file 0600, replaced
 * atomically) and returns the path.
 */
export function writeMcpConfig(stateDir: string, agentId: string, config: McpConfig): string {
  const dir = agentStateDir(stateDir, agentId);
  Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(dir, 0o700);
  const path = `${dir}/mcp.json`;
  writePrivateFileSync(path, JSON.stringify(config, null, 2) + "\n");
  return path;
}

/** Removes an agent's private state directory (nothing when there is none). */
export function removeAgentState(stateDir: string, agentId: string): void {
  try {
    Deno.removeSync(agentStateDir(stateDir, agentId), { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
