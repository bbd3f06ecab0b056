/**
 * The access token of the `--listen` mode: a random 256-bit token is printed once at start; the
 * URL carrying it is exchanged for an HttpOnly, SameSite=Strict cookie holding a value derived
 * from it (so the cookie never contains the token itself). Comparisons take constant time.
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

/** The token of one admin process. */
export class AccessToken {
  /** The secret printed at start (43 base64url characters). */
  readonly token: string;
  /** Cookie name; includes the port because cookies are shared by all ports of a host. */
  readonly cookieName: string;
  #cookieValue: string;

  private constructor(token: string, cookieName: string, cookieValue: string) {
    this.token = token;
    this.cookieName = cookieName;
    this.#cookieValue = cookieValue;
  }

  /** Creates a fresh token (or wraps `token`, for tests) for the listener on `port`. */
  static async create(port: number, token?: string): Promise<AccessToken> {
    const secret = token ?? base64url(crypto.getRandomValues(new Uint8Array(32)));
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(`hero_orchestrator_admin cookie:${secret}`),
    );
    return new AccessToken(secret, `hero_admin_${port}`, hex(digest));
  }

  /** True when `value` is the token. */
  matchesToken(value: string | null): boolean {
    return value !== null && timingSafeEqual(value, this.token);
  }

  /** True when the `Cookie` header carries the session cookie. */
  matchesCookie(cookieHeader: string | null): boolean {
    const value = readCookie(cookieHeader, this.cookieName);
    return value !== null && timingSafeEqual(value, this.#cookieValue);
  }

  /** The `Set-Cookie` value given in exchange for the token. */
  setCookie(): string {
    return `${this.cookieName}=${this.#cookieValue}; Path=/; HttpOnly; SameSite=Strict`;
  }
}
