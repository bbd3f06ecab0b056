import assert from "node:assert/strict";
import { readRateLimit } from "./service.ts";

Deno.test("readRateLimit(): unified windows and API-key limits", () => {
  const state = readRateLimit({
    id: 1,
    ts: 5,
    agent_id: "a",
    method: "POST",
    path: "/v1/messages",
    status: 429,
    request_id: "r",
    headers: {
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-reset": "1795612807",
      "anthropic-ratelimit-unified-5h-status": "rejected",
      "anthropic-ratelimit-unified-5h-utilization": "1.0",
      "anthropic-ratelimit-unified-5h-reset": "1795612807",
      "anthropic-ratelimit-unified-7d_opus-utilization": "0.2",
      "anthropic-ratelimit-unified-representative-claim": "five_hour",
      "anthropic-ratelimit-unified-fallback-percentage": "0.5",
      "anthropic-ratelimit-requests-limit": "50",
      "anthropic-ratelimit-requests-remaining": "10",
      "anthropic-ratelimit-requests-reset": "2030-01-01T00:00:00Z",
      "retry-after": "7",
    },
  });
  assert.equal(state.unified_status, "rejected");
  assert.equal(state.unified_resets_at, 1795612807000);
  assert.equal(state.representative_claim, "five_hour");
  assert.equal(state.fallback_percentage, 0.5);
  assert.equal(state.retry_after, "7");
  const w = Object.fromEntries(state.windows.map((x) => [x.name, x]));
  assert.deepEqual([w["5h"]!.status, w["5h"]!.utilization, w["5h"]!.resets_at], [
    "rejected",
    1,
    1795612807000,
  ]);
  assert.equal(w["7d_opus"]!.utilization, 0.2);
  assert.deepEqual(
    [w.requests!.limit, w.requests!.remaining, w.requests!.utilization, w.requests!.resets_at],
    [50, 10, 0.8, Date.parse("2030-01-01T00:00:00Z")],
  );
});
