/** A shared one-second clock for live durations. */
import { signal } from "@preact/signals";

/** `Date.now()`, updated every second while the page is open. */
export const now = signal(Date.now());

let started = false;

/** Starts the clock (idempotent). */
export function startClock(): void {
  if (started) return;
  started = true;
  setInterval(() => (now.value = Date.now()), 1000);
}
