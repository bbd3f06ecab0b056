/** Maps an RPC error to the form field it is about (server-side validation). */
import { RpcError } from "../state/rpc.ts";

const BY_REASON: Record<string, string> = {
  invalid_cwd: "cwd",
  invalid_model: "model",
  invalid_effort: "effort",
  invalid_prompt: "prompt",
};

/** The field an error names (`data.field`, the machine code, or the first zod issue path). */
export function fieldOf(err: unknown): string | null {
  if (!(err instanceof RpcError)) return null;
  const field = err.data?.field;
  if (typeof field === "string") return field;
  const byReason = err.reason ? BY_REASON[err.reason] : undefined;
  if (byReason) return byReason;
  const issues = err.data?.issues;
  if (Array.isArray(issues)) {
    const path = (issues[0] as { path?: unknown[] } | undefined)?.path;
    if (Array.isArray(path) && typeof path[0] === "string") return path[0];
  }
  return null;
}
