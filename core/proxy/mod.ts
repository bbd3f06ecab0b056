/**
 * The quota proxy between claude children and the upstream API (per-agent tokens, usage capture),
 * the OAuth usage poll, and the `usage.get` report.
 * @module
 */
export * from "./token.ts";
export * from "./credential.ts";
export * from "./tap.ts";
export * from "./log.ts";
export * from "./recorder.ts";
export * from "./server.ts";
export * from "./usage_poll.ts";
export * from "./usage.ts";
