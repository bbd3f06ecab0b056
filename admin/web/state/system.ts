/** `system.info` (models, defaults, limits), loaded once per page. */
import { signal } from "@preact/signals";
import type { SystemInfo } from "@hero/sdk";
import { call, messageOf } from "./rpc.ts";

/** The server's info, once loaded. */
export const systemInfo = signal<SystemInfo | null>(null);
/** Why it could not be loaded. */
export const systemError = signal<string | null>(null);

let loading: Promise<void> | null = null;

/** Loads `system.info` (once). */
export function loadSystemInfo(): Promise<void> {
  loading ??= call("system.info", {}).then(
    (info) => {
      systemInfo.value = info;
      systemError.value = null;
    },
    (err) => {
      systemError.value = messageOf(err);
      loading = null;
    },
  );
  return loading;
}
