import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import { fakePrompt, type FakeStep, soakFigure } from "../testing/mod.ts";
import { markedProcesses, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

const auto = (steps: FakeStep[]) => fakePrompt({ auto: true, steps });

Deno.test("an agent runs to awaiting_review, stores every line and completes", async () => {
  await withEngine({}, async (h) => {
    const seen: string[] = [];
    const order: string[] = [];
    h.engine.bus.subscribe((e) => {
      if (e.kind === "agent") seen.push(e.agent.status);
      order.push(
        e.kind === "agent" ? `agent:${e.agent.status}:${e.agent.pid !== null}` : "message",
      );
    });
    const created = h.engine.supervisor.create({ prompt: "hello there", cwd: h.cwd });
    assertEquals(created.model, "claude-sonnet-4-6");
    assertEquals(created.effort, "medium");
    const agent = await waitForStatus(h, created.id, "awaiting_review");
    assert(agent.session_id && agent.pid && agent.pgid === agent.pid && agent.started_at);
    assertEquals(agent.result, "hello there");
    assertEquals([agent.input_tokens, agent.output_tokens, agent.turn_count], [12, 6, 1]);
    assertEquals(agent.total_cost_usd, 0.000042);
    const messages = h.engine.store.readMessages(created.id, 0, 100);
    assertEquals(messages.map((m) => [m.seq, m.type, m.subtype]), [
      [1, "system", "init"],
      [2, "user", null], // the prompt, echoed by --replay-user-messages
      [3, "assistant", null],
      [4, "result", "success"],
    ]);
    assertEquals(JSON.parse(messages[1]!.raw).message.content, [
      { type: "text", text: "hello there" },
    ]);
    assertEquals(agent.last_seq, 4);
    const settled = await h.engine.supervisor.settled(created.id);
    assertEquals(settled.exit_code, 0);
    const done = h.engine.supervisor.complete(created.id);
    assertEquals(done.status, "completed");
    assert(done.finished_at);
    throws(() => h.engine.supervisor.complete(created.id), /needs awaiting_review/);
    assert(seen.includes("queued") && seen.includes("running") && seen.includes("awaiting_review"));
    assertEquals(seen.at(-1), "completed");
    // pid and pgid are durable before the first output line is stored.
    assert(order.indexOf("agent:running:true") < order.indexOf("message"));
  });
});

Deno.test("invalid model, effort, prompt and cwd are refused before anything is spawned", async () => {
  await withEngine({}, (h) => {
    const s = h.engine.supervisor;
    const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
    throws(() => s.create({ prompt: "x", cwd: h.cwd, model: "gpt-4" }), code("invalid_model"));
    throws(
      () => s.create({ prompt: "x", cwd: h.cwd, effort: "ultra" as never }),
      code("invalid_effort"),
    );
    throws(() => s.create({ prompt: "", cwd: h.cwd }), code("invalid_prompt"));
    throws(() => s.create({ prompt: "x", cwd: "relative" }), code("invalid_cwd"));
    throws(() => s.create({ prompt: "x", cwd: h.engine.paths.stateDir }), code("invalid_cwd"));
    assertEquals(h.engine.store.listAgents({ limit: 10 }).agents.length, 0);
    return Promise.resolve();
  });
});

Deno.test("the child gets the allow-listed environment only, and effort none sends no --effort", async () => {
  const secrets = {
    AWS_SECRET_ACCESS_KEY: "aws-secret",
    GITHUB_TOKEN: "gh-secret",
    DB_PASSWORD: "db-secret",
  };
  // Under `shadows_only` a standard agent talks to the upstream itself, with the daemon's key.
  const env = {
    ...secrets,
    ANTHROPIC_API_KEY: "sk-test",
    HERO_ORCHESTRATOR_PROXY_SCOPE: "shadows_only",
  };
  await withEngine({ env }, async (h) => {
    const record = `${h.cwd}/record.json`; // inside the sandbox only the cwd is shared
    const a = h.engine.supervisor.create({
      prompt: auto([{ record }, { text: "ok" }]),
      cwd: h.cwd,
      effort: "none",
      model: "claude-haiku-4-5",
    });
    await waitForStatus(h, a.id, "awaiting_review");
    const rec = JSON.parse(await Deno.readTextFile(record));
    for (const name of Object.keys(secrets)) assert(!(name in rec.env), `${name} leaked`);
    assertEquals(rec.env.CLAUDE_CODE_EFFORT_LEVEL, "unset");
    // Retry count and timeouts are configuration handed to the CLI, never its 10 retries over 3 min.
    assertEquals(rec.env.CLAUDE_CODE_MAX_RETRIES, "3");
    assertEquals(rec.env.API_TIMEOUT_MS, "120000");
    assertEquals(rec.env.CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS, "120000");
    assertEquals(rec.env.ANTHROPIC_API_KEY, "sk-test");
    assert(rec.env.HERO_ORCHESTRATOR_AGENT.startsWith(`${a.id}.`));
    assert(!rec.argv.includes("--effort"));
    assertEquals(rec.argv.slice(rec.argv.indexOf("--model"), rec.argv.indexOf("--model") + 2), [
      "--model",
      "claude-haiku-4-5",
    ]);
    assertEquals(rec.cwd, Deno.realPathSync(h.cwd));
    // The prompt travels on stdin only.
    assert(!rec.argv.some((arg: string) => arg.includes("FAKE")));
    assert(rec.stdinLines[0].includes("FAKE"));
  });
});

Deno.test("cancel kills the whole tree, 100 times, and reports cancelled only when it is empty", async () => {
  await withEngine({
    tune: (s) => (s.supervisor.maxConcurrent = 10, s.supervisor.cancelGraceMs = 500),
  }, async (h) => {
    const steps: FakeStep[] = [
      { init: true },
      { spawn: "sleep 1000" },
      { spawn: "sh -c 'sleep 1000 & sleep 1000'", newSession: true },
      { spawn: "exec sleep 1000 >/dev/null 2>&1 </dev/null", newSession: true },
      { text: "tree ready" },
      { hang: true },
    ];
    for (let round = 0; round < 10; round++) {
      const ids = Array.from(
        { length: 10 },
        () => h.engine.supervisor.create({ prompt: fakePrompt(steps), cwd: h.cwd }).id,
      );
      await Promise.all(
        ids.map((id) => waitFor(`tree of ${id}`, () => h.engine.store.getAgent(id)!.last_seq >= 2)),
      );
      await waitFor("grandchildren", async () => (await markedProcesses(ids)).length >= 50);
      const cancelled = await Promise.all(ids.map((id) => h.engine.supervisor.cancel(id)));
      for (const agent of cancelled) {
        assertEquals(agent.status, "cancelled");
        assertEquals(agent.error_code, "cancelled");
        assert(agent.cancel_requested_at && agent.finished_at);
      }
      assertEquals(await markedProcesses(ids), [], `round ${round}: descendants left`);
    }
  });
});

Deno.test("a SIGTERM-ignoring agent is SIGKILLed at the grace period", async () => {
  await withEngine({ tune: (s) => (s.supervisor.cancelGraceMs = 1_500) }, async (h) => {
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { ignoreSigterm: true }, {
        spawn: "trap '' TERM; sleep 1000",
      }, {
        hang: true,
      }]),
      cwd: h.cwd,
    });
    await waitFor("init", () => h.engine.store.getAgent(a.id)!.last_seq >= 1);
    const started = Date.now();
    const agent = await h.engine.supervisor.cancel(a.id);
    const elapsed = Date.now() - started;
    assertEquals(agent.status, "cancelled");
    assertEquals(agent.exit_signal, "SIGKILL");
    assert(elapsed >= 1_500 && elapsed < 3_000, `elapsed ${elapsed}`);
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("a stopped (SIGSTOP) agent is continued and dies on cancel", async () => {
  await withEngine({ tune: (s) => (s.supervisor.cancelGraceMs = 3_000) }, async (h) => {
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { stop: true }, { hang: true }]),
      cwd: h.cwd,
    });
    await waitFor("init", () => h.engine.store.getAgent(a.id)!.last_seq >= 1);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const agent = await h.engine.supervisor.cancel(a.id);
    assertEquals(agent.status, "cancelled");
    // The fake handles SIGTERM like the real CLI: exit 143. It must not have needed SIGKILL.
    assert(agent.exit_code === 143 || agent.exit_signal === "SIGTERM", JSON.stringify(agent));
    assert(Date.now() - started < 2_500);
  });
});

Deno.test("a 32 MiB line is stored byte-exact; a line over the bound fails only its agent", async () => {
  await withEngine({ tune: (s) => (s.claude.maxLineBytes = 40 * 1024 * 1024) }, async (h) => {
    const big = h.engine.supervisor.create({
      prompt: auto([{ bigLine: 32 * 1024 * 1024 }]),
      cwd: h.cwd,
    });
    const over = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { noNewlineBytes: 200 * 1024 * 1024 }, { hang: true }]),
      cwd: h.cwd,
    });
    const neighbour = h.engine.supervisor.create({
      prompt: auto([{ lines: 2000, bytes: 600 }]),
      cwd: h.cwd,
    });
    const failed = await waitForStatus(h, over.id, "failed", 30_000);
    assertEquals(failed.error_code, "line_too_long");
    await waitForStatus(h, big.id, "awaiting_review", 30_000);
    const n = await waitForStatus(h, neighbour.id, "awaiting_review", 30_000);
    assertEquals(n.last_seq, 2003); // init, prompt echo, 2000 lines, result
    const bytes = h.engine.store.readMessageBytes(big.id, 3)!;
    assertEquals(bytes.length, 32 * 1024 * 1024);
    const parsed = JSON.parse(new TextDecoder().decode(bytes));
    assert(typeof parsed === "object");
    assertEquals(await markedProcesses([over.id]), []);
  });
});

Deno.test("invalid UTF-8, non-JSON, CRLF and a final line without newline are stored raw", async () => {
  await withEngine({}, async (h) => {
    const raw = new Uint8Array([
      ...new TextEncoder().encode('{"type":"x","v":"\u00e9"}\r\n'),
      0xff,
      0xfe,
      0x41,
      0x0a,
      ...new TextEncoder().encode("not json\n[1,2]\n"),
      ...new TextEncoder().encode('{"type":"tail"}'),
    ]);
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { raw: btoa(String.fromCharCode(...raw)) }, { exit: 0 }]),
      cwd: h.cwd,
    });
    const agent = await waitForStatus(h, a.id, "failed");
    assertEquals(agent.error_code, "exit_without_result");
    const msgs = h.engine.store.readMessages(a.id, 0, 100);
    assertEquals(msgs.map((m) => [m.type, m.parse_error, m.eof_no_newline]), [
      ["system", false, false],
      ["user", false, false],
      ["x", false, false],
      [null, true, false],
      [null, true, false],
      [null, true, false],
      ["tail", false, true],
    ]);
    assertEquals([...h.engine.store.readMessageBytes(a.id, 4)!], [0xff, 0xfe, 0x41]);
    assertEquals(
      new TextDecoder().decode(h.engine.store.readMessageBytes(a.id, 3)),
      '{"type":"x","v":"\u00e9"}',
    );
  });
});

/** Reliability target T16: 50 × 100,000 lines (5,000,000 rows) in `deno task soak`. */
const LINES_PER_AGENT = soakFigure(20_000, 100_000);

Deno.test(`50 agents × ${LINES_PER_AGENT} lines: contiguous seq, no gaps, no duplicates`, async () => {
  await withEngine({ tune: (s) => (s.supervisor.maxConcurrent = 50) }, async (h) => {
    const ids = Array.from(
      { length: 50 },
      () =>
        h.engine.supervisor.create({
          prompt: auto([{ lines: LINES_PER_AGENT, bytes: 300 }]),
          cwd: h.cwd,
        })
          .id,
    );
    // Progress, not a wall clock: a loaded machine may be slow, but a wedge stores nothing.
    let stored = -1;
    let since = Date.now();
    for (;;) {
      const agents = ids.map((id) => h.engine.store.getAgent(id)!);
      const failed = agents.find((a) => a.status === "failed");
      assert(!failed, JSON.stringify(failed));
      if (agents.every((a) => a.status === "awaiting_review")) break;
      const total = agents.reduce((n, a) => n + a.last_seq, 0);
      if (total !== stored) [stored, since] = [total, Date.now()];
      assert(
        Date.now() - since < 60_000,
        `no line stored for 60 s: ${agents.map((a) => `${a.status}/${a.last_seq}`).join(" ")}`,
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const id of ids) {
      const agent = h.engine.store.getAgent(id)!;
      // init, prompt echo, the numbered lines, result
      assertEquals(agent.last_seq, LINES_PER_AGENT + 3);
      assertEquals(h.engine.store.countMessages(id), LINES_PER_AGENT + 3);
      // Contiguity: the page boundaries line up and the numbered lines come in order.
      let after = 0;
      let index = 0;
      for (;;) {
        const page = h.engine.store.readMessages(id, after, 1000);
        if (page.length === 0) break;
        for (const m of page) {
          assertEquals(m.seq, after + 1);
          after = m.seq;
          if (m.seq >= 3 && m.seq <= LINES_PER_AGENT + 2) {
            assertEquals(JSON.parse(m.raw).index, index++);
          }
        }
      }
      assertEquals(after, LINES_PER_AGENT + 3);
    }
  });
});

Deno.test("a 100 MB stderr flood cannot block the child; the last 1 MiB is kept", async () => {
  await withEngine({}, async (h) => {
    const a = h.engine.supervisor.create({
      prompt: auto([{ stderr: 100 * 1024 * 1024 }, { text: "done" }]),
      cwd: h.cwd,
    });
    const agent = await waitForStatus(h, a.id, "awaiting_review", 30_000);
    const settled = await h.engine.supervisor.settled(agent.id);
    assert(settled.stderr_truncated);
    assert(settled.stderr_tail && settled.stderr_tail.length >= 1024 * 1024 - 4);
    assert(settled.stderr_tail.length <= 1024 * 1024);
  });
});

Deno.test("token and cost totals equal the result lines, across turns and processes", async () => {
  await withEngine({}, async (h) => {
    const usage = (i: number, o: number) => ({
      input_tokens: i,
      output_tokens: o,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    const assistant = (id: string, u: object, text: string) => ({
      line: {
        type: "assistant",
        message: {
          id,
          type: "message",
          role: "assistant",
          content: [{ type: "text", text }],
          usage: u,
        },
        session_id: "{{session_id}}",
      },
    });
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([
        { init: true },
        // One message split over three content-block lines repeats the same usage: counted once.
        assistant("msg_1", usage(100, 1), "a"),
        assistant("msg_1", usage(100, 1), "b"),
        assistant("msg_1", usage(100, 1), "c"),
        assistant("msg_2", usage(150, 1), "d"),
        { result: { usage: usage(250, 40), total_cost_usd: 0.0123, num_turns: 2 } },
      ]),
      cwd: h.cwd,
    });
    let agent = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals([agent.input_tokens, agent.output_tokens, agent.num_turns], [250, 40, 2]);
    assertEquals(agent.total_cost_usd, 0.0123);
    await h.engine.supervisor.settled(a.id);
    // A follow-up is a new process whose cumulative cost starts at zero again.
    await h.engine.supervisor.followUp(a.id, "second");
    agent = await waitForStatus(h, a.id, "awaiting_review");
    assert(
      Math.abs(agent.total_cost_usd - (0.0123 + 0.000042)) < 1e-12,
      String(agent.total_cost_usd),
    );
    assertEquals([agent.input_tokens, agent.output_tokens, agent.turn_count], [262, 46, 2]);
    const messages = h.engine.store.readMessages(a.id, 0, 100);
    assertEquals(messages.map((m) => m.seq), messages.map((_, i) => i + 1));
    const inits = messages.filter((m) => m.subtype === "init").map((m) =>
      JSON.parse(m.raw).session_id
    );
    assertEquals(inits.length, 2);
    assertEquals(inits[0], inits[1]);
  });
});

Deno.test("errors: no result, non-zero exit, API error result and spawn failure are all failed with a cause", async () => {
  await withEngine({}, async (h) => {
    const s = h.engine.supervisor;
    const noResult = s.create({
      prompt: fakePrompt([{ init: true }, { text: "bye" }, { exit: 0 }]),
      cwd: h.cwd,
    });
    const crash = s.create({
      prompt: fakePrompt([{ init: true }, { stderr: "boom: it broke\n" }, { exit: 3 }]),
      cwd: h.cwd,
    });
    const api = s.create({ prompt: fakePrompt([{ init: true }, { apiError: 500 }]), cwd: h.cwd });
    assertEquals((await waitForStatus(h, noResult.id, "failed")).error_code, "exit_without_result");
    const crashed = await waitForStatus(h, crash.id, "failed");
    assertEquals([crashed.error_code, crashed.exit_code], ["exit_nonzero", 3]);
    assert(crashed.error_message!.includes("boom: it broke"));
    const apiFailed = await waitForStatus(h, api.id, "failed");
    assertEquals(apiFailed.error_code, "api_error");
  });
  // A missing claude says so (claude_not_found and its fix), sandboxed or not.
  for (const sandbox of ["bwrap", "off"]) {
    await withEngine({
      env: {
        HERO_ORCHESTRATOR_CLAUDE_BIN: "/nonexistent/claude",
        HERO_ORCHESTRATOR_SANDBOX: sandbox,
      },
    }, async (h) => {
      const a = h.engine.supervisor.create({ prompt: "x", cwd: h.cwd });
      const failed = await waitForStatus(h, a.id, "failed");
      assertEquals(failed.error_code, "claude_not_found", sandbox);
      assertEquals(
        failed.error_message,
        'Cannot start claude: the claude CLI "/nonexistent/claude" was not found',
      );
      assert(failed.error_fix!.includes("HERO_ORCHESTRATOR_CLAUDE_BIN"), sandbox);
    });
  }
});

Deno.test("a rejected rate_limit_event pauses the agent until the reset, process gone", async () => {
  await withEngine({ tune: (s) => (s.supervisor.cancelGraceMs = 300) }, async (h) => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { rateLimitRejected: { resetsAt } }]),
      cwd: h.cwd,
    });
    const agent = await waitForStatus(h, a.id, "paused");
    assertEquals(agent.pause_reason, "rate_limit");
    assertEquals(agent.pause_window, "five_hour");
    assertEquals(agent.resume_at, resetsAt * 1000);
    assertEquals(agent.rate_limit_resets_at, resetsAt * 1000);
    assertEquals(agent.error_code, null);
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("watchdogs: idle timeout, max runtime, and a process hanging after its result", async () => {
  await withEngine({
    tune: (s) => {
      s.supervisor.idleTimeoutMs = 600;
      s.supervisor.resultExitGraceMs = 500;
      s.supervisor.cancelGraceMs = 300;
    },
  }, async (h) => {
    const idle = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { sleep: 60_000 }]),
      cwd: h.cwd,
    });
    const hung = h.engine.supervisor.create({
      prompt: auto([{ text: "done" }, { result: {} }, { hang: true }]),
      cwd: h.cwd,
    });
    const idleAgent = await waitForStatus(h, idle.id, "failed");
    assertEquals(idleAgent.error_code, "idle_timeout");
    const review = await waitForStatus(h, hung.id, "awaiting_review");
    assert(review.result !== null);
    const settled = await h.engine.supervisor.settled(hung.id);
    assertEquals(settled.status, "awaiting_review");
    assertEquals(await markedProcesses([hung.id, idle.id]), []);
  });
  await withEngine({
    tune: (s) => (s.supervisor.maxRuntimeMs = 700, s.supervisor.cancelGraceMs = 300),
  }, async (h) => {
    const busy = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { repeat: 100_000, line: { type: "keep_alive" } }, {
        hang: true,
      }]),
      cwd: h.cwd,
    });
    const agent = await waitForStatus(h, busy.id, "failed");
    assertEquals(agent.error_code, "max_runtime");
  });
});

Deno.test("the concurrency cap queues agents and starts them in FIFO order", async () => {
  await withEngine({ tune: (s) => (s.supervisor.maxConcurrent = 2) }, async (h) => {
    let peak = 0;
    h.engine.bus.subscribe(() => (peak = Math.max(peak, h.engine.supervisor.runningCount)));
    const ids = Array.from(
      { length: 6 },
      () =>
        h.engine.supervisor.create({ prompt: auto([{ sleep: 150 }, { text: "x" }]), cwd: h.cwd })
          .id,
    );
    assertEquals(h.engine.store.getAgent(ids[5]!)!.status, "queued");
    for (const id of ids) await waitForStatus(h, id, "awaiting_review");
    const starts = ids.map((id) => h.engine.store.getAgent(id)!.started_at!);
    assertEquals([...starts].sort((a, b) => a - b), starts);
    assert(peak <= 2, `peak ${peak}`);
    // Cancelling a queued agent never spawns it.
    const blockers = [0, 1].map(() =>
      h.engine.supervisor.create({
        prompt: fakePrompt([{ init: true }, { hang: true }]),
        cwd: h.cwd,
      }).id
    );
    const queued = h.engine.supervisor.create({ prompt: "never", cwd: h.cwd });
    const cancelled = await h.engine.supervisor.cancel(queued.id);
    assertEquals([cancelled.status, cancelled.pid], ["cancelled", null]);
    for (const id of blockers) await h.engine.supervisor.cancel(id);
  });
});

Deno.test("follow-up is refused unless awaiting_review or failed; delete only when terminal", async () => {
  await withEngine({}, async (h) => {
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { hang: true }]),
      cwd: h.cwd,
    });
    await waitForStatus(h, a.id, "running");
    await rejects(h.engine.supervisor.followUp(a.id, "more"), /needs awaiting_review or failed/);
    await rejects(h.engine.supervisor.delete(a.id), /needs completed, failed or cancelled/);
    await h.engine.supervisor.cancel(a.id);
    await h.engine.supervisor.delete(a.id);
    assertEquals(h.engine.store.getAgent(a.id), undefined);
    throws(() => h.engine.store.countMessages(a.id), /no such agent/);
    throws(
      () => h.engine.supervisor.complete(a.id),
      (e: unknown) => (e as { code?: string }).code === "not_found",
    );
  });
});
