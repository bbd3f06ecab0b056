/**
 * Usage telemetry: the OAuth usage poll (`UsagePoller`) and the `usage.get` report
 * (`UsageService`, `readRateLimit`) over what the quota proxy and the read loop stored. The
 * contract schemas are in `schema.ts` (re-exported by `core/rpc`), kept out of this front door
 * because their names mirror the engine's types.
 * @module
 */
export * from "./poll.ts";
export * from "./service.ts";
