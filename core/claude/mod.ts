/**
 * The claude CLI driver: argv and environment, spawning, bounded line reading, line
 * classification and token accounting.
 * @module
 */
export * from "./args.ts";
export * from "./child_env.ts";
export * from "./driver.ts";
export * from "./line_stream.ts";
export * from "./classify.ts";
export * from "./usage.ts";
export * from "./stderr_tail.ts";
export * from "./turn_result.ts";
export * from "./sandbox.ts";
export * from "./liveness.ts";
export * from "./delta.ts";
export * from "./failure.ts";
