/** `agent.export`: where an agent's transcript downloads from (the bytes stream over HTTP). */
import { RpcFault } from "@hero/core/rpc";
import { exportContentType, exportFileName } from "@hero/core/export";
import { handlers } from "./define.ts";

/** The download path of an export on rpc.sock (and, relayed, on the admin). */
export function exportPath(id: string, format: "jsonl" | "markdown"): string {
  return `/export/${encodeURIComponent(id)}.${format === "jsonl" ? "jsonl" : "md"}`;
}

export const exportHandlers = handlers({
  "agent.export"(params, deps) {
    const agent = deps.engine.store.getAgent(params.id);
    if (!agent) throw new RpcFault("not_found", `Cannot find agent "${params.id}": no such agent`);
    return {
      path: exportPath(agent.id, params.format),
      filename: exportFileName(agent, params.format),
      content_type: exportContentType(params.format),
      last_seq: agent.last_seq,
    };
  },
});
