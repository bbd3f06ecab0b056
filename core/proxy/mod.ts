/**
 * The quota proxy between claude children and the upstream API (per-agent tokens, usage capture).
 * The OAuth usage poll and the `usage.get` report live in `core/usage`.
 * @module
 */
export * from "./token.ts";
export * from "./credential.ts";
export * from "./tap.ts";
export * from "./recorder.ts";
export * from "./server.ts";
