/**
 * Domain models: zod schemas and their inferred types under one name.
 * @module
 */
export * from "./agent.ts";
export * from "./message.ts";
export * from "./transitions.ts";
export * from "./id.ts";
export * from "./errors.ts";
export * from "./title.ts";
export * from "./approval.ts";
export * from "./failure.ts";
