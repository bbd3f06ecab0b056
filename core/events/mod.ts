/**
 * Typed pub/sub of committed engine events, and the mapping from what the store committed to them.
 * @module
 */
export * from "./bus.ts";
export * from "./from_store.ts";
