import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import {
  type Harness,
  ManualClock,
  markedProcesses,
  waitFor,
  waitForStatus,
  withEngine,
} from "../engine/testing_harness.ts";

const HOUR = 3600_000;
const CONTINUE = "continue please";
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

function quotaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS: "60000",
    HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS: "0",
    HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: CONTINUE,
    ...extra,
  };
}

/** The `system/init` lines of an agent's transcript, with their seq. */
function inits(h: Harness, id: string): { seq: number; session: string }[] {
  return h.engine.store.readMessages(id, 0, 10_000)
    .filter((m) => m.type === "system" && m.subtype === "init")
    .map((m) => ({ seq: m.seq, session: JSON.parse(m.raw).session_id }));
}

function seqs(h: Harness, id: string): number[] {
  return h.engine.store.readMessages(id, 0, 10_000).map((m) => m.seq);
}

Deno.test("a five-hour rate-limit pause holds the fleet and resumes the session exactly once after reset + skew", async () => {
  const clock = new ManualClock();
  await withEngine(
    { env: quotaEnv(), clock, tune: (s) => (s.supervisor.cancelGraceMs = 300) },
    async (h) => {
      const s = h.engine.supervisor;
      const resetsAt = Math.floor((clock.now() + 5 * HOUR) / 1000);
      const a = s.create({
        prompt: fakePrompt([{ init: true }, { text: "working" }, {
          rateLimitRejected: { resetsAt },
        }]),
        cwd: h.cwd,
      });
      const paused = await waitForStatus(h, a.id, "paused");
      assertEquals([paused.pause_reason, paused.pause_window], ["rate_limit", "five_hour"]);
      assertEquals(paused.resume_at, resetsAt * 1000);
      assert(paused.session_id);
      await waitFor("the run to end", () => s.runningCount === 0);
      assertEquals(await markedProcesses([a.id]), []);

      // While the window is rejected nothing new starts into it.
      const b = s.create({ prompt: "later", cwd: h.cwd });
      assertEquals(h.engine.store.getAgent(b.id)!.status, "queued");
      assert(s.quota.admission?.reason.includes("five_hour"), JSON.stringify(s.quota.admission));
      const quota = h.engine.usage.report().quota;
      assertEquals(quota.admission, s.quota.admission);
      assertEquals(quota.paused.map((p) => [p.agent_id, p.reason, p.window, p.resume_at]), [
        [a.id, "rate_limit", "five_hour", resetsAt * 1000],
      ]);

      // At the reset (no skew yet): still paused, still queued.
      clock.advance(resetsAt * 1000 - clock.now());
      assertEquals(h.engine.store.getAgent(a.id)!.status, "paused");
      assertEquals(h.engine.store.getAgent(b.id)!.status, "queued");

      clock.advance(60_001);
      const done = await waitForStatus(h, a.id, "awaiting_review");
      assertEquals(done.result, CONTINUE);
      assertEquals([done.pause_reason, done.resume_at], [null, null]);
      await waitForStatus(h, b.id, "awaiting_review");
      assertEquals(s.quota.admission, null);

      // Both turns in one seq space, the second one resuming the same session.
      await s.settled(a.id);
      const sessions = inits(h, a.id);
      assertEquals(sessions.length, 2);
      assertEquals(sessions[0]!.session, sessions[1]!.session);
      const all = seqs(h, a.id);
      assertEquals(all, Array.from({ length: all.length }, (_, i) => i + 1));

      // Exactly once: later ticks change nothing.
      clock.advance(10 * HOUR);
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(h.engine.store.getAgent(a.id)!.status, "awaiting_review");
      assertEquals(inits(h, a.id).length, 2);
    },
  );
});

Deno.test("manual pause keeps the session; resume continues it; cancel works while paused; bad calls change nothing", async () => {
  await withEngine(
    { env: quotaEnv(), tune: (s) => (s.supervisor.cancelGraceMs = 300) },
    async (h) => {
      const s = h.engine.supervisor;
      const a = s.create({ prompt: fakePrompt([{ init: true }, { hang: true }]), cwd: h.cwd });
      await waitFor("init stored", () => inits(h, a.id).length === 1);
      await waitForStatus(h, a.id, "running");
      // resume of a non-paused agent: invalid_state, nothing changed.
      const before = h.engine.store.getAgent(a.id)!;
      throws(() => s.quota.resume(a.id), code("invalid_state"));
      assertEquals(h.engine.store.getAgent(a.id)!.updated_at, before.updated_at);

      const paused = await s.quota.pause(a.id);
      assertEquals([paused.status, paused.pause_reason, paused.resume_at], [
        "paused",
        "manual",
        null,
      ]);
      assertEquals(paused.session_id, before.session_id);
      assertEquals(await markedProcesses([a.id]), []);
      await rejects(s.quota.pause(a.id), code("invalid_state"));

      s.quota.resume(a.id);
      const done = await waitForStatus(h, a.id, "awaiting_review");
      assertEquals(done.result, CONTINUE);
      const sessions = inits(h, a.id);
      assertEquals(sessions.map((x) => x.session), [before.session_id, before.session_id]);

      // A cancel while a pause is stopping the run still ends the agent cancelled.
      const c = s.create({ prompt: fakePrompt([{ init: true }, { hang: true }]), cwd: h.cwd });
      await waitFor("c's init", () => inits(h, c.id).length === 1);
      const pausing = s.quota.pause(c.id);
      const cancelledC = await s.cancel(c.id);
      await pausing;
      assertEquals(cancelledC.status, "cancelled");
      assertEquals(h.engine.store.getAgent(c.id)!.status, "cancelled");

      // An agent paused by hand as soon as it was queued never runs its turn; cancel ends it from paused.
      const b = s.create({ prompt: fakePrompt([{ hang: true }]), cwd: h.cwd });
      const pausedB = await s.quota.pause(b.id);
      assertEquals([pausedB.status, pausedB.pause_reason], ["paused", "manual"]);
      assertEquals(await markedProcesses([b.id]), []);
      const cancelled = await s.cancel(b.id);
      assertEquals(cancelled.status, "cancelled");
      throws(() => s.quota.resume(b.id), code("invalid_state"));
    },
  );
});

Deno.test("budgets: bad figures are refused; the next turn past max_turns pauses; raising it resumes in place", async () => {
  await withEngine({ env: quotaEnv() }, async (h) => {
    const s = h.engine.supervisor;
    for (const bad of [-1, 0, Number.NaN, 1e9]) {
      throws(
        () => s.create({ prompt: "x", cwd: h.cwd, max_cost_usd: bad }),
        code("invalid_params"),
      );
    }
    throws(() => s.create({ prompt: "x", cwd: h.cwd, max_turns: 1.5 }), code("invalid_params"));
    assertEquals(h.engine.store.listAgents({ limit: 10 }).agents.length, 0);

    const a = s.create({ prompt: "first", cwd: h.cwd, max_turns: 1, max_cost_usd: 5 });
    assertEquals([a.max_turns, a.max_cost_usd], [1, 5]);
    const first = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals(first.num_turns, 1);
    await s.settled(a.id);

    await s.followUp(a.id, "second");
    const paused = await waitForStatus(h, a.id, "paused");
    assertEquals(paused.pause_reason, "budget");
    assert(paused.error_message!.includes("budget of 1"), paused.error_message!);
    assertEquals(inits(h, a.id).length, 1); // the next turn never started

    throws(() => s.quota.resume(a.id), code("invalid_state"));
    throws(() => s.quota.setBudget(a.id, { max_turns: -3 }), code("invalid_params"));
    assertEquals(h.engine.store.getAgent(a.id)!.max_turns, 1);

    const raised = s.quota.setBudget(a.id, { max_turns: 5 });
    assertEquals(raised.max_turns, 5);
    const done = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals(done.result, "second"); // the waiting follow-up, not the continuation prompt
    assertEquals(inits(h, a.id).length, 2);
  });
});

Deno.test("budgets: a prompt to a live session past max_turns pauses the agent instead of starting a turn in that process", async () => {
  await withEngine({
    env: quotaEnv({ HERO_ORCHESTRATOR_SESSION_IDLE_MS: "600000" }),
  }, async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first", cwd: h.cwd, max_turns: 1 });
    await waitForStatus(h, a.id, "awaiting_review");
    await waitFor("a live idle process", () => s.isLive(a.id), 30_000);

    // Sent to the live process, "second" would run at once as a second turn of the same process.
    await s.followUp(a.id, "second");
    const paused = await waitForStatus(h, a.id, "paused");
    assertEquals(paused.pause_reason, "budget");
    assertEquals(paused.num_turns, 1);
    await waitFor(
      "the session's process ended",
      async () => (await markedProcesses([a.id])).length === 0,
      30_000,
    );
    const results = () =>
      h.engine.store.readMessages(a.id, 0, 10_000).filter((m) => m.type === "result").length;
    assertEquals(results(), 1);

    s.quota.setBudget(a.id, { max_turns: 2 });
    const done = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals([done.result, done.num_turns, results()], ["second", 2, 2]);
  });
});

Deno.test("20 agents hit the wall: all pause, none fails, each continues exactly once under the cap", async () => {
  const clock = new ManualClock();
  const cap = 4;
  await withEngine({
    env: quotaEnv({ HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS: "120000" }),
    clock,
    tune: (s) => {
      s.supervisor.cancelGraceMs = 300;
      s.supervisor.maxConcurrent = cap;
    },
  }, async (h) => {
    const s = h.engine.supervisor;
    let running = 0;
    let maxRunning = 0;
    const statuses = new Map<string, string[]>();
    h.engine.bus.subscribe((e) => {
      if (e.kind !== "agent") return;
      const list = statuses.get(e.agent.id) ?? [];
      if (list.at(-1) === e.agent.status) return;
      list.push(e.agent.status);
      statuses.set(e.agent.id, list);
    });
    const resetsAt = Math.floor((clock.now() + HOUR) / 1000);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(
        s.create({
          prompt: fakePrompt([{ init: true }, { rateLimitRejected: { resetsAt } }]),
          cwd: h.cwd,
          name: `agent ${i}`,
        }).id,
      );
    }
    await waitFor(
      "the first wave to pause",
      () => h.engine.store.listAgentsByStatus(["paused"]).length === cap && s.runningCount === 0,
    );
    // The rest stay queued: nothing starts into the rejected window.
    assertEquals(h.engine.store.listAgentsByStatus(["queued"]).length, 20 - cap);
    assert(s.quota.admission);

    const sampler = setInterval(() => {
      running = s.runningCount;
      maxRunning = Math.max(maxRunning, running);
    }, 5);
    try {
      clock.advance(HOUR + 60_000 + 120_001);
      await waitFor(
        "all 20 to finish",
        () => ids.every((id) => h.engine.store.getAgent(id)!.status === "awaiting_review"),
        120_000,
      );
    } finally {
      clearInterval(sampler);
    }
    assert(maxRunning <= cap, `at most ${cap} ran at once, saw ${maxRunning}`);
    for (const id of ids) {
      await s.settled(id);
      const agent = h.engine.store.getAgent(id)!;
      assertEquals(agent.result, CONTINUE);
      assertEquals(inits(h, id).length, 2, `${agent.name}: one rejected run, one continuation`);
      assert(!statuses.get(id)!.includes("failed"), `${agent.name} never failed`);
    }
  });
});

Deno.test("a window above HERO_ORCHESTRATOR_QUOTA_ADMIT_BELOW holds new starts (shadows too) until its reset", async () => {
  const clock = new ManualClock();
  await withEngine({
    env: quotaEnv({ HERO_ORCHESTRATOR_QUOTA_ADMIT_BELOW: "0.9" }),
    clock,
  }, async (h) => {
    const s = h.engine.supervisor;
    const reset = Math.floor((clock.now() + 2 * HOUR) / 1000);
    h.engine.store.recordProxyActivity([{
      ts: clock.now(),
      agent_id: null,
      method: "POST",
      path: "/v1/messages",
      status: 200,
      request_id: null,
      headers: {
        "anthropic-ratelimit-unified-status": "allowed_warning",
        "anthropic-ratelimit-unified-5h-utilization": "0.93",
        "anthropic-ratelimit-unified-5h-reset": String(reset),
        "anthropic-ratelimit-unified-7d-utilization": "0.2",
        "anthropic-ratelimit-unified-7d-reset": String(reset + 86_400),
      },
    }], []);
    const a = s.create({ prompt: "waits", cwd: h.cwd });
    const shadow = s.createShadow({
      parent: a,
      prompt: "name it",
      name: "shadow",
      model: "claude-haiku-4-5",
    });
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(h.engine.store.getAgent(a.id)!.status, "queued");
    assertEquals(h.engine.store.getAgent(shadow.id)!.status, "queued");
    assert(
      s.quota.admission?.reason.includes("five_hour window (93% used"),
      JSON.stringify(s.quota.admission),
    );
    assertEquals(s.quota.admission?.until, reset * 1000 + 60_000);

    clock.advance(reset * 1000 + 60_001 - clock.now());
    await waitForStatus(h, a.id, "awaiting_review");
    await waitForStatus(h, shadow.id, "awaiting_review");
    assertEquals(s.quota.admission, null);
  });
});

Deno.test("priority orders admission when headroom returns: high, then normal, then low; bad priorities are refused", async () => {
  const clock = new ManualClock();
  await withEngine({
    env: quotaEnv(),
    clock,
    tune: (s) => (s.supervisor.maxConcurrent = 1),
  }, async (h) => {
    const s = h.engine.supervisor;
    throws(
      () => s.create({ prompt: "x", cwd: h.cwd, priority: "urgent" as "high" }),
      code("invalid_params"),
    );
    assertEquals(h.engine.store.listAgentsByStatus(["queued"]).length, 0, "nothing was stored");
    const reset = Math.floor((clock.now() + HOUR) / 1000);
    h.engine.store.recordProxyActivity([{
      ts: clock.now(),
      agent_id: null,
      method: "POST",
      path: "/v1/messages",
      status: 429,
      request_id: null,
      headers: {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": String(reset),
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
      },
    }], []);
    const started: string[] = [];
    const unsubscribe = h.engine.bus.subscribe((e) => {
      if (e.kind === "agent" && e.agent.status === "running" && !started.includes(e.agent.name!)) {
        started.push(e.agent.name!);
      }
    });
    try {
      for (const [name, priority] of [["low", "low"], ["normal", undefined], ["high", "high"]]) {
        const a = s.create({
          prompt: "hi",
          cwd: h.cwd,
          name,
          ...(priority ? { priority: priority as "low" | "high" } : {}),
        });
        assertEquals(a.priority, priority ?? "normal");
      }
      await new Promise((r) => setTimeout(r, 300));
      assertEquals(started, [], "nothing starts into the rejected window");
      clock.advance(reset * 1000 + 60_001 - clock.now());
      await waitFor(
        "all three to finish",
        () => started.length === 3 && s.runningCount === 0,
        30_000,
      );
      assertEquals(started, ["high", "normal", "low"]);
    } finally {
      unsubscribe();
    }
  });
});

Deno.test("a cwd's daily budget pauses its agents (and only them); override_budget clears only an agent's own reached budget", async () => {
  const root = await Deno.makeTempDir({ prefix: "hero_cwd_budget_" });
  const capped = `${root}/capped`;
  await Deno.mkdir(`${capped}/sub`, { recursive: true });
  await Deno.mkdir(`${root}/free`);
  try {
    await withEngine({
      env: quotaEnv({ HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD: JSON.stringify({ [capped]: 0.2 }) }),
    }, async (h) => {
      const s = h.engine.supervisor;
      // One turn costing $0.50 in a subdirectory uses up the directory's $0.20 for today.
      const a = s.create({
        prompt: fakePrompt([{ init: true }, { result: { cost: 0.5 } }]),
        cwd: `${capped}/sub`,
        max_cost_usd: 0.1,
      });
      const spent = await waitForStatus(h, a.id, "awaiting_review");
      assertEquals(spent.total_cost_usd, 0.5);
      await s.settled(a.id);

      const b = s.create({ prompt: "in the capped directory", cwd: capped });
      const held = await waitForStatus(h, b.id, "paused");
      assertEquals(held.pause_reason, "budget");
      assert(held.error_message!.includes(`in ${capped} reached its daily budget of $0.2`));
      assertEquals(inits(h, b.id).length, 0);
      const free = s.create({ prompt: "elsewhere", cwd: `${root}/free` });
      await waitForStatus(h, free.id, "awaiting_review");

      // The cwd cap is not the agent's own: override_budget does not lift it, and changes nothing.
      throws(() => s.quota.resume(b.id, { overrideBudget: true }), code("invalid_state"));
      await s.followUp(a.id, "more");
      await waitForStatus(h, a.id, "paused");
      throws(() => s.quota.resume(a.id, { overrideBudget: true }), code("invalid_state"));
      assertEquals(h.engine.store.getAgent(a.id)!.max_cost_usd, 0.1);

      // An agent held by its own budget only continues with the override; that budget is cleared.
      const d = s.create({ prompt: "one turn", cwd: `${root}/free`, max_turns: 1 });
      await waitForStatus(h, d.id, "awaiting_review");
      await s.settled(d.id);
      await s.followUp(d.id, "second turn");
      await waitForStatus(h, d.id, "paused");
      throws(() => s.quota.resume(d.id), code("invalid_state"));
      assertEquals(s.quota.resume(d.id, { overrideBudget: true }).max_turns, null);
      const done = await waitForStatus(h, d.id, "awaiting_review");
      assertEquals(done.result, "second turn");
    });
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
