import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { resolveQuotaSettings } from "../config/mod.ts";
import { budgetReached, cwdBudgetDirs, headerBlock, resumeDueAt, resumeJitterMs } from "./quota.ts";

const Q = { resumeSkewMs: 60_000, resumeJitterMs: 30_000, admitBelow: 0.95 };

Deno.test("resume jitter is stable per agent, within bounds, and spreads a fleet", () => {
  const ids = Array.from({ length: 50 }, () => crypto.randomUUID());
  const values = ids.map((id) => resumeJitterMs(id, 30_000));
  assertEquals(ids.map((id) => resumeJitterMs(id, 30_000)), values);
  assert(values.every((v) => v >= 0 && v <= 30_000));
  assert(new Set(values).size > 40, "jitter does not spread");
  assertEquals(resumeJitterMs(ids[0]!, 0), 0);
});

Deno.test("resumeDueAt: timed rate-limit pauses, and storage pauses once storage is ok, resume by themselves", () => {
  const base = { id: "x", status: "paused" as const, resume_at: 1_000_000, paused_at: 500 };
  assertEquals(
    resumeDueAt({ ...base, pause_reason: "rate_limit" }, Q),
    1_000_000 + 60_000 + resumeJitterMs("x", 30_000),
  );
  assertEquals(resumeDueAt({ ...base, pause_reason: "manual" }, Q), null);
  assertEquals(resumeDueAt({ ...base, pause_reason: "budget" }, Q), null);
  assertEquals(resumeDueAt({ ...base, status: "running", pause_reason: "rate_limit" }, Q), null);
  const storage = { ...base, pause_reason: "storage" as const, resume_at: null };
  assertEquals(resumeDueAt(storage, Q, true), 500);
  assertEquals(resumeDueAt(storage, Q, false), null);
});

Deno.test("headerBlock: rejected or nearly used windows hold starts until reset + skew; stale readings do not", () => {
  const now = 1_800_000_000_000;
  const reset = String(now / 1000 + 3600);
  assertEquals(
    headerBlock(
      {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": reset,
        "anthropic-ratelimit-unified-representative-claim": "seven_day",
      },
      now,
      Q,
    )?.window,
    "seven_day",
  );
  const near = headerBlock(
    {
      "anthropic-ratelimit-unified-5h-utilization": "0.96",
      "anthropic-ratelimit-unified-5h-reset": reset,
    },
    now,
    Q,
  );
  assertEquals(near?.until, now + 3600_000 + 60_000);
  assertEquals(
    headerBlock(
      {
        "anthropic-ratelimit-unified-5h-utilization": "0.94",
        "anthropic-ratelimit-unified-5h-reset": reset,
      },
      now,
      Q,
    ),
    null,
  );
  assertEquals(
    headerBlock(
      {
        "anthropic-ratelimit-unified-5h-utilization": "1.0",
        "anthropic-ratelimit-unified-5h-reset": String(now / 1000 - 120),
      },
      now,
      Q,
    ),
    null,
  );
  assertEquals(headerBlock(undefined, now, Q), null);
});

Deno.test("budgetReached names the budget reached; the daily cap counts too", () => {
  const a = { max_cost_usd: 0.1, max_turns: null, total_cost_usd: 0.1, num_turns: 3 };
  assert(budgetReached(a)!.includes("budget of $0.1"));
  assertEquals(budgetReached({ ...a, total_cost_usd: 0.09 }), null);
  assert(budgetReached({ ...a, max_cost_usd: null, max_turns: 3 })!.includes("3 turns"));
  assert(
    budgetReached({ ...a, max_cost_usd: null }, { usedUsd: 5, capUsd: 5 })!.includes("daily"),
  );
});

Deno.test("quota settings: defaults and refused values", () => {
  const s = resolveQuotaSettings({});
  assertEquals([s.resumeSkewMs, s.admitBelow, s.dailyBudgetUsd], [60_000, 0.95, null]);
  assertEquals(
    resolveQuotaSettings({ HERO_ORCHESTRATOR_DAILY_BUDGET_USD: "12.5" }).dailyBudgetUsd,
    12.5,
  );
  for (
    const [name, value] of [
      ["HERO_ORCHESTRATOR_QUOTA_ADMIT_BELOW", "1.5"],
      ["HERO_ORCHESTRATOR_QUOTA_ADMIT_BELOW", "x"],
      ["HERO_ORCHESTRATOR_DAILY_BUDGET_USD", "-1"],
      ["HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS", "-5"],
      ["HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD", "{not json"],
      ["HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD", '["/a"]'],
      ["HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD", '{"relative": 1}'],
      ["HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD", '{"/a": -1}'],
    ]
  ) {
    throws(() => resolveQuotaSettings({ [name!]: value! }), new RegExp(`Cannot read ${name}`));
  }
});

Deno.test("cwd budgets: parsed from the environment, cover a directory and everything below it", () => {
  const caps = resolveQuotaSettings({
    HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD: '{"/work/repo/": 5, "/work": 20}',
  }).cwdDailyBudgetsUsd;
  assertEquals(caps, { "/work/repo": 5, "/work": 20 });
  assertEquals(resolveQuotaSettings({}).cwdDailyBudgetsUsd, {});
  assertEquals(cwdBudgetDirs(caps, "/work/repo/sub").sort(), ["/work", "/work/repo"]);
  assertEquals(cwdBudgetDirs(caps, "/work/repository"), ["/work"]);
  assertEquals(cwdBudgetDirs(caps, "/elsewhere"), []);
  const agent = { max_cost_usd: null, max_turns: null, total_cost_usd: 0, num_turns: 0 };
  assertEquals(budgetReached(agent, null, [{ dir: "/work", capUsd: 2, usedUsd: 1.9 }]), null);
  assert(
    budgetReached(agent, null, [{ dir: "/work", capUsd: 2, usedUsd: 2 }])!.includes("in /work"),
  );
});
