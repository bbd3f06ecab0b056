/**
 * The daemon's storage state (`system.health` → `checks.storage`), polled for the storage
 * banner: every 10 s, every 2 s while storage is failing.
 * @module
 */
import { signal } from "@preact/signals";
import type { StorageHealth } from "@hero/sdk";
import { call } from "./rpc.ts";

/** The newest reading; null until the first one (or when health cannot be read). */
export const storageHealth = signal<StorageHealth | null>(null);

/** The first reading waits this long, so it does not compete with the page's first screen. */
export const STORAGE_FIRST_POLL_MS = 1_500;
/** Poll interval while storage takes writes. */
export const STORAGE_POLL_MS = 10_000;
/** Poll interval while it fails (so the banner goes away soon after it recovers). */
export const STORAGE_FAILING_POLL_MS = 2_000;

let started = false;

async function refresh(): Promise<void> {
  try {
    storageHealth.value = (await call("system.health", {})).checks.storage;
  } catch {
    // The connection indicator reports an unreachable daemon; keep the last reading.
  }
}

/** Starts polling (idempotent). */
export function startStorageWatch(): void {
  if (started) return;
  started = true;
  const tick = async () => {
    if (document.visibilityState !== "hidden") await refresh();
    const failing = storageHealth.value !== null && !storageHealth.value.ok;
    setTimeout(tick, failing ? STORAGE_FAILING_POLL_MS : STORAGE_POLL_MS);
  };
  setTimeout(tick, STORAGE_FIRST_POLL_MS);
}
