/**
 * Typed pub/sub of committed engine events.
 * @module
 */
export * from "./bus.ts";
