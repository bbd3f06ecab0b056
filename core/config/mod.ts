/**
 * Configuration: paths and engine settings resolved from environment values.
 * Pure functions; the composition root passes `Deno.env.toObject()` in.
 * @module
 */
export * from "./paths.ts";
export * from "./engine.ts";
export * from "./home_mcp.ts";
export * from "./notify.ts";
export * from "./claude_version.ts";
export * from "./quota.ts";
export * from "./sandbox.ts";
export * from "./setting.ts";
export * from "./prices.ts";
