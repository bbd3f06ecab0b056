/**
 * The composition root of the engine: `openEngine` builds the store, supervisor, quota proxy,
 * shadows and usage poller in dependency order, and closes them in reverse.
 * @module
 */
export * from "./engine.ts";
