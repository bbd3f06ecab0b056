/**
 * The real upstream credential the proxy injects (children never see it): from the daemon's
 * environment, the API key file a person stored (`cli login --api-key`), or the OAuth access token
 * in `<CLAUDE_CONFIG_DIR or ~/.claude>/.credentials.json`.
 * @module
 */
import { type Env, resolvePaths } from "../config/mod.ts";
import { MAX_API_KEY_CHARS } from "../rpc/credential.ts";
import { writePrivateFileSync } from "@hero/service/private_file";

/** How a credential is sent upstream. */
export type CredentialKind = "api_key" | "bearer" | "oauth";

/** A credential and where it came from. `value` is secret: never log or return it. */
export interface UpstreamCredential {
  kind: CredentialKind;
  value: string;
  /**
   * `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_API_KEY`, `CLAUDE_CODE_OAUTH_TOKEN`, or a file's path (the
   * stored API key, or claude's credentials file).
   */
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

/** Why `key` cannot be stored as an API key, or null when it can. Never echoes the key. */
export function apiKeyProblem(key: string): string | null {
  if (key.length === 0) return "the key is empty";
  if (key.length > MAX_API_KEY_CHARS) {
    return `the key is longer than ${MAX_API_KEY_CHARS} characters`;
  }
  if (/\s/.test(key)) return "the key contains whitespace";
  if (!/^[\x21-\x7e]+$/.test(key)) {
    return "the key contains characters that are not printable ASCII";
  }
  return null;
}

/**
 * Stores `key` as the service's API key in `path` (mode 0600, written to a temp file and renamed
 * so a reader never sees half a key), or removes the file when `key` is null. Returns whether a
 * file now exists.
 */
export function storeApiKey(path: string, key: string | null): boolean {
  if (key === null) {
    try {
      Deno.removeSync(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return false;
  }
  const problem = apiKeyProblem(key);
  if (problem) throw new RangeError(`Cannot store the API key: ${problem}`);
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writePrivateFileSync(path, `${key}\n`);
  return true;
}

/** Options of {@linkcode CredentialSource}. */
export interface CredentialSourceOptions {
  /** The stored API key (`Paths.apiKeyFile`); default from `env`. */
  apiKeyFile?: string | null;
}

/**
 * Resolves the upstream credential in the CLI's own order of precedence (so the proxy uses what a
 * directly connected agent would): `ANTHROPIC_AUTH_TOKEN` (Bearer), `ANTHROPIC_API_KEY`
 * (`x-api-key`), then the stored API key file (a person chose it explicitly, so it goes before a
 * subscription login), `CLAUDE_CODE_OAUTH_TOKEN`, then the credentials file (OAuth Bearer). Files
 * are re-read when their modification time changes, so a token the CLI refreshed or a key a
 * person stored is picked up without a restart.
 */
export class CredentialSource {
  #env: Env;
  #file: string | null;
  #keyFile: string | null;
  #cache: { mtime: number; credential: UpstreamCredential | null; detail: string | null } | null =
    null;
  #keyCache:
    | { stamp: string; credential: UpstreamCredential | null; detail: string | null }
    | null = null;

  constructor(env: Env, options: CredentialSourceOptions = {}) {
    this.#env = env;
    this.#file = credentialsFilePath(env);
    let keyFile = options.apiKeyFile;
    if (keyFile === undefined) {
      try {
        keyFile = resolvePaths(env).apiKeyFile;
      } catch {
        keyFile = null; // no HOME and no PATH_VAR: no default place for a key
      }
    }
    this.#keyFile = keyFile;
  }

  /** Where a stored API key is read from (null: nowhere). */
  get apiKeyFile(): string | null {
    return this.#keyFile;
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
    const stored = this.#fromKeyFile().credential;
    if (stored) return stored;
    return this.oauth();
  }

  /** The stored API key, when one is stored and usable (for children that talk directly). */
  storedApiKey(): UpstreamCredential | null {
    return this.#fromKeyFile().credential;
  }

  /** Why a stored API key file is there but refused (mode, content), or null. */
  storedApiKeyProblem(): string | null {
    const { credential, detail } = this.#fromKeyFile();
    return credential === null ? detail : null;
  }

  #fromKeyFile(): { credential: UpstreamCredential | null; detail: string | null } {
    const file = this.#keyFile;
    if (!file) return { credential: null, detail: null };
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(file);
    } catch {
      this.#keyCache = null;
      return { credential: null, detail: null };
    }
    const stamp = `${info.mtime?.getTime() ?? 0}:${info.size}:${info.mode ?? 0}:${info.ino ?? 0}`;
    if (this.#keyCache?.stamp === stamp) return this.#keyCache;
    let credential: UpstreamCredential | null = null;
    let detail: string | null = null;
    const mode = (info.mode ?? 0) & 0o777;
    if (!info.isFile) {
      detail = `${file} is not a regular file`;
    } else if ((mode & 0o077) !== 0) {
      // Like ssh with a private key: a key others can read is not used (and not trusted).
      detail = `${file} is readable by others (mode ${
        mode.toString(8).padStart(4, "0")
      }); run chmod 600 ${file}`;
    } else {
      try {
        const key = Deno.readTextFileSync(file).trim();
        const problem = apiKeyProblem(key);
        if (problem) detail = `${file} holds no usable API key: ${problem}`;
        else credential = { kind: "api_key", value: key, source: file, expiresAt: null };
      } catch (err) {
        detail = `Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    this.#keyCache = { stamp, credential, detail };
    return this.#keyCache;
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
    const keyProblem = this.storedApiKeyProblem();
    return {
      kind: null,
      source: null,
      expires_at: null,
      detail: keyProblem ?? this.#fromFile().detail,
    };
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
          `no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or CLAUDE_CODE_OAUTH_TOKEN, no stored API key${
            this.#keyFile ? ` (${this.#keyFile})` : ""
          }, and no ${file}`,
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
