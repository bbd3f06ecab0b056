/**
 * A banner across the page while the daemon cannot write its database: what is wrong, since
 * when, how often it retried, and that agents are held (not failed) until storage returns.
 * @module
 */
import type { StorageHealth } from "@hero/sdk";
import { formatClock } from "../lib/format.ts";

const TITLE: Record<Exclude<StorageHealth["state"], "ok">, string> = {
  storage_full: "Storage is full",
  storage_busy: "The database is locked by another process",
  storage_io_error: "The database cannot be written (I/O error)",
};

const FIX: Record<Exclude<StorageHealth["state"], "ok">, string> = {
  storage_full: "Free disk space where the daemon keeps its state; it resumes by itself.",
  storage_busy: "Stop whatever holds the database open for writing; the daemon resumes by itself.",
  storage_io_error: "Check the disk holding the daemon's state; the daemon keeps retrying.",
};

/** Renders nothing while storage is fine. */
export function StorageBanner({ storage }: { storage: StorageHealth | null }) {
  if (!storage || storage.state === "ok") return null;
  const held = storage.held_lines === 1 ? "1 line" : `${storage.held_lines} lines`;
  return (
    <div class="storage-banner" role="alert" data-storage-state={storage.state}>
      <strong class="storage-banner-title">{TITLE[storage.state]}</strong>
      <span>
        {` Agents are held and their output waits (${held} in memory); nothing is lost. ${
          FIX[storage.state]
        }`}
      </span>
      <span class="storage-banner-detail">
        {storage.since !== null ? ` Since ${formatClock(storage.since)}` : ""}
        {`, ${storage.retries} ${storage.retries === 1 ? "retry" : "retries"}`}
        {storage.over_bound ? ", past its bound" : ""}
        {storage.last_error ? `: ${storage.last_error}` : ""}
      </span>
    </div>
  );
}
