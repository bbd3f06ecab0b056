/**
 * The hero_orchestrator SDK, for browsers and Deno: typed methods generated from `openrpc.json`,
 * one error class, the event stream, and the display parser of transcript lines. The transport is
 * an injected `fetch`.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "@hero/sdk";
 * const client = createClient({ fetch: unixFetch("/path/rpc.sock").fetch });
 * const agent = await client.agent.create({ prompt: "hi", cwd: "/work" });
 * for await (const event of client.events({ agent: agent.id })) console.log(event);
 * ```
 * @module
 */
import { RpcClient, type TransportOptions } from "./client.ts";
import { bindMethods, type BoundMethods } from "./gen/methods.gen.ts";
import { type EventSubscription, subscribeEvents, type SubscribeOptions } from "./events.ts";

export * from "./client.ts";
export * from "./events.ts";
export * from "./transcript.ts";
export * from "./format.ts";
export * from "./gen/types.gen.ts";
export * from "./gen/methods.gen.ts";

/** The SDK client: `client.agent.create(…)`, `client.call(…)`, `client.events(…)`. */
export type Client = RpcClient & BoundMethods & {
  /** Subscribes to the event stream over the same transport. */
  events(options?: Omit<SubscribeOptions, keyof TransportOptions>): EventSubscription;
};

/** Creates a client over `options.fetch` (default: the global fetch). */
export function createClient(options: TransportOptions = {}): Client {
  const rpc = new RpcClient(options);
  const bound = bindMethods((method, params) => rpc.call(method, params));
  return Object.assign(rpc, bound, {
    events(sub: Omit<SubscribeOptions, keyof TransportOptions> = {}) {
      return subscribeEvents({
        ...sub,
        fetch: rpc.fetch,
        baseUrl: rpc.baseUrl,
        headers: rpc.headers,
      });
    },
  });
}
