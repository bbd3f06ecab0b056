/**
 * The JSON-RPC contract: methods (zod), the error vocabulary and protocol limits.
 * @module
 */
export * from "./methods.ts";
export * from "./errors.ts";
export * from "./limits.ts";
export * from "./usage.ts";
export * from "./credential.ts";
