/**
 * How a run's process is started: argv (model, effort, permission mode, session, home MCP config,
 * voice prompt), the allow-listed environment and, for proxied agents, a fresh proxy token of its
 * own (only its hash is stored).
 * @module
 */
import { isolatedCwd } from "./isolation.ts";
import type { Agent } from "../models/mod.ts";
import type { EngineSettings, Env, ProxyScope } from "../config/mod.ts";
import type { Store } from "../store/mod.ts";
import {
  buildChildEnv,
  buildClaudeArgs,
  type ClaudeProcess,
  type SandboxPolicy,
  spawnClaude,
} from "../claude/mod.ts";
import { revalidateCwd } from "./cwd.ts";
import { homeMcpConfig, VOICE_SYSTEM_PROMPT, writeMcpConfig } from "./home_mcp.ts";
import type { Turn } from "./types.ts";

/** How agents reach the quota proxy (absent or null: every agent talks to the upstream). */
export interface SupervisorProxy {
  socketPath: string;
  /** `all` or `shadows_only`. */
  scope: Exclude<ProxyScope, "off">;
  /** `CLAUDE_CONFIG_DIR` of proxied children: holds no credential of the daemon's. */
  configDir: string;
  /** A minted token expires after this long at the latest. */
  tokenTtlMs: number;
  /** Mints a new proxy token and the hash to store (the proxy's own function). */
  mintToken(): { token: string; hash: string };
}

/** Whether `agent` talks to the upstream through `proxy`. */
export function usesProxy(proxy: SupervisorProxy | null, agent: Pick<Agent, "kind">): boolean {
  return proxy !== null && (proxy.scope === "all" || agent.kind === "shadow");
}

export interface LaunchOptions {
  store: Store;
  settings: EngineSettings;
  /** The daemon's environment; only the allow-list reaches children. */
  daemonEnv: Env;
  proxy: SupervisorProxy | null;
  /** `<state dir>/agents`: per-agent MCP configs; agents with a home MCP need it. */
  agentStateDir: string | null;
  /**
   * Credential variables for a child that talks to the upstream directly (not through the proxy),
   * e.g. `ANTHROPIC_API_KEY` from the stored key file. Read at every spawn.
   */
  directCredentialEnv?: () => Record<string, string>;
  /** Run every claude child in this bubblewrap sandbox; null or absent: unsandboxed. */
  sandbox?: SandboxPolicy | null;
  /** Directories an agent's cwd may never be inside, and the roots it must be in (re-checked). */
  protectedDirs?: string[];
  allowedRoots?: string[] | null;
}

/** The `launch` function of a run: spawns claude for `agent`'s `turn` with `marker`. */
export function createLauncher(
  options: LaunchOptions,
): (agent: Agent, turn: Turn, marker: string) => ClaudeProcess {
  const { store, settings, proxy: proxyOptions } = options;
  const { claude } = settings;
  return function launch(agent, turn, marker) {
    // The directory may have been swapped (a symlink) since it was checked: check it again and
    // spawn into exactly the verified path (a ValidationError fails the agent invalid_cwd).
    const cwd = revalidateCwd(agent.cwd, {
      protectedDirs: options.protectedDirs ?? [],
      allowedRoots: options.allowedRoots ?? null,
    });
    // A proxied child's only credential is a fresh token of its own; only its hash is stored.
    let proxy = null;
    if (proxyOptions && usesProxy(proxyOptions, agent)) {
      const minted = proxyOptions.mintToken();
      store.insertProxyToken(agent.id, minted.hash, Date.now() + proxyOptions.tokenTtlMs);
      proxy = {
        socketPath: proxyOptions.socketPath,
        agentId: agent.id,
        token: minted.token,
        configDir: proxyOptions.configDir,
      };
    }
    return spawnClaude({
      bin: claude.bin,
      args: buildClaudeArgs({
        model: agent.model,
        effort: agent.effort,
        permissionMode: turn.permissionMode,
        resume: turn.resume,
        fork: turn.fork === true,
        forkAt: turn.forkAt ?? null,
        bare: agent.kind === "shadow",
        permissionPrompts: agent.kind !== "shadow" && agent.permission_mode !== "bypassPermissions",
        mcpConfigPath: homeMcpConfigPath(options, agent),
        appendSystemPrompt: turn.voice ? VOICE_SYSTEM_PROMPT : null,
      }),
      cwd: runCwd(store, agent, cwd),
      env: {
        ...buildChildEnv({
          daemonEnv: options.daemonEnv,
          settings: claude,
          effort: agent.effort,
          marker,
          proxy,
        }),
        ...(proxy ? {} : options.directCredentialEnv?.() ?? {}),
      },
      maxLineBytes: claude.maxLineBytes,
      stderrTailBytes: claude.stderrTailBytes,
      sandbox: options.sandbox ?? null,
    });
  };
}

/**
 * Where claude runs: the agent's cwd, or for an isolated agent the same place in its worktree.
 * @throws when the worktree is gone (the run fails with that message).
 */
export function runCwd(store: Store, agent: Agent, checkedCwd: string): string {
  const iso = store.isolation(agent.id);
  if (!iso) return checkedCwd;
  try {
    Deno.statSync(iso.worktree_path);
  } catch {
    throw new Error(
      `Cannot run agent "${agent.id}" in its worktree: ${iso.worktree_path} is ${
        iso.removed_at !== null ? "removed (merged or discarded)" : "missing"
      }`,
    );
  }
  return isolatedCwd(iso, checkedCwd);
}

/** Writes an agent's home MCP config (before every spawn); null without a home MCP. */
function homeMcpConfigPath(options: LaunchOptions, agent: Agent): string | null {
  if (agent.home_mcp === null) return null;
  if (options.agentStateDir === null) {
    throw new Error(
      `Cannot give agent "${agent.id}" its home MCP: no agent state directory is configured`,
    );
  }
  return writeMcpConfig(
    options.agentStateDir,
    agent.id,
    homeMcpConfig(options.settings.homeMcp, agent.home_mcp, agent.hero_context),
  );
}
