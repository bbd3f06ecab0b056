import assert from "node:assert/strict";
import { activeMs, formatDuration } from "./format.ts";

Deno.test("formatDuration: seconds, minutes, hours, days", () => {
  assert.equal(formatDuration(-5), "0s");
  assert.equal(formatDuration(42_900), "42s");
  assert.equal(formatDuration(65_000), "1m 05s");
  assert.equal(formatDuration((2 * 60 + 4) * 60_000), "2h 04m");
  assert.equal(formatDuration((3 * 24 + 2) * 3_600_000), "3d 2h");
});

Deno.test("activeMs: the stored sum, plus the current stretch only while one runs", () => {
  assert.equal(activeMs({ active_ms: 5000, active_since: null }, 99_999), 5000);
  assert.equal(activeMs({ active_ms: 5000, active_since: 1000 }, 3000), 7000);
  // A clock behind the server's never subtracts.
  assert.equal(activeMs({ active_ms: 5000, active_since: 4000 }, 3000), 5000);
});
