/** `session.import`: adopting Claude Code session files into the ledger. */
import { ValidationError } from "@hero/core/models";
import { RpcFault } from "@hero/core/rpc";
import { handlers } from "./define.ts";

export const sessionHandlers = handlers({
  async "session.import"(params, deps) {
    try {
      return await deps.engine.ledger.import(params.path);
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new RpcFault("invalid_params", err.message, { field: err.field ?? "path" });
      }
      throw err;
    }
  },
});
