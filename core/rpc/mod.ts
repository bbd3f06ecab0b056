/**
 * The JSON-RPC contract: methods (zod), the error vocabulary and protocol limits.
 * @module
 */
export * from "./methods.ts";
export * from "./errors.ts";
export * from "./limits.ts";
export * from "./commit.ts";
export * from "../usage/schema.ts";
export * from "./credential.ts";
export * from "./system.ts";
export * from "./search.ts";
export * from "./quota.ts";
