/** `rpc.*`: service discovery. */
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";

export const rpcHandlers = handlers({
  "rpc.discover"(_params, deps: RpcDeps) {
    return deps.openrpc;
  },
});
