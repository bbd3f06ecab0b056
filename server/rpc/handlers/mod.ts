/** The full handler table: one file per namespace, checked against the contract. */
import type { HandlerTable } from "./define.ts";
import { agentHandlers } from "./agent.ts";
import { systemHandlers } from "./system.ts";
import { rpcHandlers } from "./rpc.ts";
import { usageHandlers } from "./usage.ts";
import { credentialHandlers } from "./credential.ts";
import { exportHandlers } from "./export.ts";
import { searchHandlers } from "./search.ts";
import { sessionHandlers } from "./session.ts";
import { approvalHandlers } from "./approval.ts";

export type { Handler, HandlerTable } from "./define.ts";
export { healthReport } from "./system.ts";

/** Every method of the contract, exactly once (a missing or extra handler fails type checking). */
export const HANDLERS: HandlerTable = {
  ...agentHandlers,
  ...usageHandlers,
  ...credentialHandlers,
  ...exportHandlers,
  ...searchHandlers,
  ...sessionHandlers,
  ...approvalHandlers,
  ...systemHandlers,
  ...rpcHandlers,
};
