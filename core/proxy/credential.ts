/**
 * The real upstream credential the proxy injects (children never see it): from the daemon's
 * environment or the OAuth access token in `<CLAUDE_CONFIG_DIR or ~/.claude>/.credentials.json`.
 * @module
 */
import type { Env } from "../config/mod.ts";

/** How a credential is sent upstream. */
export type CredentialKind = "api_key" | "bearer" | "oauth";

/** A credential and where it came from. `value` is secret: never log or return it. */
export interface UpstreamCredential {
  kind: CredentialKind;
  value: string;
  /** `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_API_KEY`, `CLAUDE_CODE_OAUTH_TOKEN` or the file path. */
  source: string;
  /** OAuth access token expiry (epoch ms) when the file says. */
  expiresAt: number | null;
}

/** A credential without its secret, for status reports. */
export interface CredentialInfo {
  kind: CredentialKind | null;
  source: string | null;
  expires_at: number | null;
  /** Why there is none, when there is none. */
  detail: string | null;
}

/** Where the CLI keeps its OAuth credentials for this environment. */
export function credentialsFilePath(env: Env): string | null {
  const dir = env.CLAUDE_CONFIG_DIR || (env.HOME ? `${env.HOME}/.claude` : null);
  return dir ? `${dir.replace(/\/+$/, "")}/.credentials.json` : null;
}

/**
 * Resolves the upstream credential in the CLI's own order of precedence (so the proxy uses what a
 * directly connected agent would): `ANTHROPIC_AUTH_TOKEN` (Bearer), `ANTHROPIC_API_KEY`
 * (`x-api-key`), `CLAUDE_CODE_OAUTH_TOKEN`, then the credentials file (OAuth Bearer). The file is
 * re-read when its modification time changes, so a token the CLI refreshed is picked up.
 */
export class CredentialSource {
  #env: Env;
  #file: string | null;
  #cache: { mtime: number; credential: UpstreamCredential | null; detail: string | null } | null =
    null;

  constructor(env: Env) {
    this.#env = env;
    this.#file = credentialsFilePath(env);
  }

  /** The credential to inject, or null (see {@linkcode info} for why). */
  get(): UpstreamCredential | null {
    const env = this.#env;
    if (env.ANTHROPIC_AUTH_TOKEN) {
      return {
        kind: "bearer",
        value: env.ANTHROPIC_AUTH_TOKEN,
        source: "ANTHROPIC_AUTH_TOKEN",
        expiresAt: null,
      };
    }
    if (env.ANTHROPIC_API_KEY) {
      return {
        kind: "api_key",
        value: env.ANTHROPIC_API_KEY,
        source: "ANTHROPIC_API_KEY",
        expiresAt: null,
      };
    }
    return this.oauth();
  }

  /** The OAuth access token only (the usage poll needs one), or null. */
  oauth(): UpstreamCredential | null {
    if (this.#env.CLAUDE_CODE_OAUTH_TOKEN) {
      return {
        kind: "oauth",
        value: this.#env.CLAUDE_CODE_OAUTH_TOKEN,
        source: "CLAUDE_CODE_OAUTH_TOKEN",
        expiresAt: null,
      };
    }
    return this.#fromFile().credential;
  }

  /** What {@linkcode get} would use, without the secret. */
  info(): CredentialInfo {
    const credential = this.get();
    if (credential) {
      return {
        kind: credential.kind,
        source: credential.source,
        expires_at: credential.expiresAt,
        detail: null,
      };
    }
    return { kind: null, source: null, expires_at: null, detail: this.#fromFile().detail };
  }

  #fromFile(): { credential: UpstreamCredential | null; detail: string | null } {
    const file = this.#file;
    if (!file) return { credential: null, detail: "HOME and CLAUDE_CONFIG_DIR are not set" };
    let mtime: number;
    try {
      mtime = Deno.statSync(file).mtime?.getTime() ?? 0;
    } catch {
      this.#cache = null;
      return {
        credential: null,
        detail:
          `no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or CLAUDE_CODE_OAUTH_TOKEN, and no ${file}`,
      };
    }
    if (this.#cache?.mtime === mtime) return this.#cache;
    let credential: UpstreamCredential | null = null;
    let detail: string | null = null;
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(file));
      const oauth = parsed?.claudeAiOauth;
      if (oauth && typeof oauth.accessToken === "string" && oauth.accessToken.length > 0) {
        credential = {
          kind: "oauth",
          value: oauth.accessToken,
          source: file,
          expiresAt: typeof oauth.expiresAt === "number" ? oauth.expiresAt : null,
        };
      } else {
        detail = `${file} holds no claudeAiOauth.accessToken`;
      }
    } catch (err) {
      detail = `Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.#cache = { mtime, credential, detail };
    return this.#cache;
  }
}
