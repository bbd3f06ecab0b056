/**
 * The access of the `--listen` mode: a random 256-bit token is printed once at start; the URL
 * carrying it is exchanged, once, for an HttpOnly, SameSite=Strict session cookie signed with a
 * key kept 0600 in the var dir, so a restart of the admin does not log anyone out and the token
 * in a browser history opens nothing. Comparisons take constant time.
 * @module
 */

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Sessions older than this need a fresh access URL. */
export const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;

/** Options of {@linkcode AccessToken.create}. */
export interface AccessTokenOptions {
  /** The one-time token to print (tests); default a fresh random one. */
  token?: string;
  /**
   * The key that signs session cookies. Kept in the var dir ({@linkcode loadSessionSecret}) so
   * sessions outlive a restart; default a random per-process key (sessions end with the process).
   */
  secret?: Uint8Array;
  /** Clock in seconds (tests). */
  now?: () => number;
}

/**
 * The access of one admin process: a one-time token printed at start, exchanged (once) for a
 * session cookie signed with a key that survives restarts.
 */
export class AccessToken {
  /** The secret printed at start (43 base64url characters); valid for one exchange. */
  readonly token: string;
  /** Cookie name; includes the port because cookies are shared by all ports of a host. */
  readonly cookieName: string;
  #key: CryptoKey;
  #port: number;
  #consumed = false;
  #now: () => number;

  private constructor(token: string, port: number, key: CryptoKey, now: () => number) {
    this.token = token;
    this.cookieName = `hero_admin_${port}`;
    this.#port = port;
    this.#key = key;
    this.#now = now;
  }

  /** Creates the access of the listener on `port`. */
  static async create(port: number, options: AccessTokenOptions = {}): Promise<AccessToken> {
    const token = options.token ?? base64url(crypto.getRandomValues(new Uint8Array(32)));
    const secret = options.secret ?? crypto.getRandomValues(new Uint8Array(32));
    const key = await crypto.subtle.importKey(
      "raw",
      secret as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new AccessToken(
      token,
      port,
      key,
      options.now ?? (() => Math.floor(Date.now() / 1000)),
    );
  }

  /** True once the token has been exchanged. */
  get consumed(): boolean {
    return this.#consumed;
  }

  /** True when `value` is the token (whether or not it was used). */
  matchesToken(value: string | null): boolean {
    return value !== null && timingSafeEqual(value, this.token);
  }

  /**
   * Exchanges the token: true the first time `value` matches, false for anything else and for
   * every later use (a URL seen in a history, a log or over a shoulder opens nothing).
   */
  consume(value: string | null): boolean {
    if (this.#consumed || !this.matchesToken(value)) return false;
    this.#consumed = true;
    return true;
  }

  async #sign(payload: string): Promise<string> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      this.#key,
      new TextEncoder().encode(`hero_orchestrator_admin session:${this.#port}:${payload}`),
    );
    return hex(mac);
  }

  /** True when the `Cookie` header carries a session this admin (or an earlier run) signed. */
  async matchesCookie(cookieHeader: string | null): Promise<boolean> {
    const value = readCookie(cookieHeader, this.cookieName);
    if (value === null) return false;
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{22})\.([0-9a-f]{64})$/.exec(value);
    if (!m) return false;
    const issued = Number(m[1]);
    const age = this.#now() - issued;
    if (age < -60 || age > SESSION_MAX_AGE_S) return false;
    return timingSafeEqual(m[3]!, await this.#sign(`${m[1]}.${m[2]}`));
  }

  /** A `Set-Cookie` value for a new session (after a successful {@linkcode consume}). */
  async setCookie(): Promise<string> {
    const payload = `${this.#now()}.${base64url(crypto.getRandomValues(new Uint8Array(16)))}`;
    return `${this.cookieName}=${payload}.${await this.#sign(
      payload,
    )}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict`;
  }
}

/**
 * The session signing key in `<dir>/session.key` (32 random bytes, 0600, directory 0700),
 * created on first use. A file that is not exactly a key is an error, not silently replaced.
 */
export function loadSessionSecret(dir: string): Uint8Array {
  const path = `${dir}/session.key`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    const key = crypto.getRandomValues(new Uint8Array(32));
    Deno.writeFileSync(path, key, { createNew: true, mode: 0o600 });
    return key;
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  const info = Deno.lstatSync(path);
  if (!info.isFile) throw new Error(`Cannot use ${path} as the session key: it is not a file`);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new Error(
      `Cannot use ${path} as the session key: it is readable by others (mode ${
        (info.mode & 0o777).toString(8)
      }); remove it and restart`,
    );
  }
  const key = Deno.readFileSync(path);
  if (key.length !== 32) {
    throw new Error(`Cannot use ${path} as the session key: it is not 32 bytes; remove it`);
  }
  return key;
}
