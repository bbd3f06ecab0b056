/**
 * Per-agent proxy tokens: `hop_` + base64url of 32 CSPRNG bytes (256 bits). Only the SHA-256 of a
 * token is stored; a presented token is hashed and compared with `timingSafeEqual` over the two
 * fixed-length (32-byte) digests.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { TERMINAL_STATUSES } from "../models/mod.ts";
import type { ProxyTokenRecord, Store } from "../store/mod.ts";

/** Prefix of every proxy token (greppable in leak scans, never a valid Anthropic key). */
export const TOKEN_PREFIX = "hop_";

/** The exact shape of a token: prefix + 43 base64url characters (32 bytes). */
export const TOKEN_PATTERN: RegExp = /^hop_[A-Za-z0-9_-]{43}$/;

/** A new token and the hash to store. The token itself is never stored or logged. */
export interface MintedToken {
  token: string;
  /** Lower-case hex SHA-256 of `token`. */
  hash: string;
}

/** Mints a new token from 32 bytes of the OS CSPRNG. */
export function mintProxyToken(): MintedToken {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return { token, hash: hashProxyToken(token).toString("hex") };
}

/** SHA-256 of a presented token (32 bytes, whatever the input's length). */
export function hashProxyToken(token: string): Uint8Array & { toString(enc: "hex"): string } {
  return createHash("sha256").update(token, "utf8").digest();
}

/** Why a presented token was refused (logged; never sent to the client beyond the fixed 403). */
export type TokenRefusal =
  | "missing"
  | "malformed"
  | "unknown"
  | "revoked"
  | "expired"
  | "agent_terminal"
  | "other_agent";

/** Outcome of {@linkcode verifyProxyToken}. */
export type TokenCheck =
  | { ok: true; record: ProxyTokenRecord }
  | { ok: false; reason: TokenRefusal; agentId: string | null };

/**
 * Checks a presented token against the store: known, not revoked, not expired, its agent not in
 * a terminal state, and (when the request names one) belonging to `claimedAgentId`. Always hashes
 * and compares, so a malformed token costs the same as an unknown one.
 */
export function verifyProxyToken(
  store: Pick<Store, "findProxyToken">,
  presented: string | null,
  claimedAgentId: string | null,
  now = Date.now(),
): TokenCheck {
  if (presented === null || presented === "") {
    return { ok: false, reason: "missing", agentId: null };
  }
  const digest = hashProxyToken(presented);
  const record = store.findProxyToken(digest.toString("hex"));
  const stored = record ? Buffer.from(record.token_hash, "hex") : Buffer.alloc(32);
  const equal = stored.length === 32 && timingSafeEqual(stored, digest);
  if (!TOKEN_PATTERN.test(presented)) return { ok: false, reason: "malformed", agentId: null };
  if (!record || !equal) return { ok: false, reason: "unknown", agentId: null };
  const agentId = record.agent_id;
  if (record.revoked_at !== null) return { ok: false, reason: "revoked", agentId };
  if (record.expires_at <= now) return { ok: false, reason: "expired", agentId };
  if (TERMINAL_STATUSES.includes(record.agent_status)) {
    return { ok: false, reason: "agent_terminal", agentId };
  }
  if (claimedAgentId !== null && claimedAgentId !== agentId) {
    return { ok: false, reason: "other_agent", agentId };
  }
  return { ok: true, record };
}
