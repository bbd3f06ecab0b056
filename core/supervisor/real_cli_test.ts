/**
 * The real claude CLI (pinned, see tools/run_tests.ts) driven by the engine against the mock Anthropic
 * API on 127.0.0.1. These prove the wire format; the fake covers the rest.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type MockAnthropic,
  realCliDaemonEnv,
  sessionRequests,
  startMockAnthropic,
  userTexts,
} from "../testing/mod.ts";
import {
  type Harness,
  markedProcesses,
  waitFor,
  waitForStatus,
  withEngine,
} from "../engine/testing_harness.ts";
import type { EngineSettings } from "../config/mod.ts";

const SECRETS = {
  AWS_SECRET_ACCESS_KEY: "aws-secret-value-1",
  GITHUB_TOKEN: "ghp_secret_value_2",
  DB_PASSWORD: "db-secret-value-3",
};

async function withRealEngine(
  fn: (h: Harness, mock: MockAnthropic) => Promise<void>,
  tune?: (s: EngineSettings) => void,
): Promise<void> {
  const mock = await startMockAnthropic();
  const config = await Deno.makeTempDir({ prefix: "hero_claude_config_" });
  try {
    await withEngine({
      env: {
        ...realCliDaemonEnv({ mockUrl: mock.url, configDir: config }),
        DISABLE_TELEMETRY: "1",
        HERO_ORCHESTRATOR_CHILD_ENV: "DISABLE_TELEMETRY",
        // The real CLI runs inside the sandbox, as in production (refuses to start without it).
        HERO_ORCHESTRATOR_SANDBOX: "bwrap",
        ...SECRETS,
      },
      tune: (s) => {
        s.supervisor.maxConcurrent = 8;
        tune?.(s);
      },
    }, (h) => fn(h, mock));
  } finally {
    await mock.close();
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
}

Deno.test("real CLI: a plain turn reaches awaiting_review with the result's exact figures", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "say hello",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    const agent = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assertEquals(agent.result, "Hello from mock");
    const lines = h.engine.store.readMessages(a.id, 0, 1000);
    const result = JSON.parse(lines.find((m) => m.type === "result")!.raw);
    const init = JSON.parse(lines.find((m) => m.subtype === "init")!.raw);
    assertEquals(agent.session_id, init.session_id);
    assertEquals(agent.total_cost_usd, result.total_cost_usd);
    assertEquals(agent.input_tokens, result.usage.input_tokens);
    assertEquals(agent.output_tokens, result.usage.output_tokens);
    assertEquals(agent.num_turns, result.num_turns);
    assertEquals((await h.engine.supervisor.settled(a.id)).exit_code, 0);
  });
});

Deno.test("real CLI: Write and Bash tools really run in the agent's cwd", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "SCENARIO_TOOLS please",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    const agent = await waitForStatus(h, a.id, "awaiting_review", 90_000);
    assertEquals(agent.num_turns, 3);
    assertEquals(await Deno.readTextFile(`${h.cwd}/hello.txt`), "hello from mock tool_use\n");
    assertEquals((await Deno.readTextFile(`${h.cwd}/bash_out.txt`)).trim(), "bash-ran");
  });
});

Deno.test("real CLI: option-like prompts reach the model verbatim, as text", async () => {
  const prompts = [
    "--version",
    "--help",
    "-p",
    "--dangerously-skip-permissions",
    '--settings {"hooks":{"Stop":[{"hooks":[{"type":"command","command":"touch /tmp/pwned"}]}]}}',
    "--mcp-config=x.json",
    "--model=x hi",
    "-- --foo",
  ];
  await withRealEngine(async (h, mock) => {
    const ids = prompts.map((prompt) =>
      h.engine.supervisor.create({ prompt, cwd: h.cwd, model: "claude-haiku-4-5" }).id
    );
    for (const [i, id] of ids.entries()) {
      const agent = await waitForStatus(h, id, "awaiting_review", 90_000);
      assertEquals(agent.result, "Hello from mock", `prompt ${prompts[i]}`);
      const requests = sessionRequests(mock, agent.session_id!);
      assert(requests.length > 0);
      assert(
        requests.some((r) => userTexts(r).includes(prompts[i]!)),
        `prompt ${JSON.stringify(prompts[i])} did not reach the API verbatim`,
      );
    }
  });
});

Deno.test("real CLI: secrets in the daemon's environment never reach a Bash tool", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "SCENARIO_ENV",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    await waitForStatus(h, a.id, "awaiting_review", 90_000);
    const dump = await Deno.readTextFile(`${h.cwd}/env_dump.txt`);
    for (const [name, value] of Object.entries(SECRETS)) {
      assert(
        !dump.includes(name) && !dump.includes(value),
        `${name} leaked into the tool environment`,
      );
    }
    assert(dump.includes(`HERO_ORCHESTRATOR_AGENT=${a.id}.`), "the ownership marker is inherited");
  });
});

Deno.test("real CLI: effort is sent as output_config, and none sends no effort at all", async () => {
  await withRealEngine(async (h, mock) => {
    const high = h.engine.supervisor.create({
      prompt: "hi",
      cwd: h.cwd,
      model: "claude-opus-4-7",
      effort: "high",
    });
    const none = h.engine.supervisor.create({
      prompt: "hi",
      cwd: h.cwd,
      model: "claude-opus-4-7",
      effort: "none",
    });
    const [a, b] = [
      await waitForStatus(h, high.id, "awaiting_review", 60_000),
      await waitForStatus(h, none.id, "awaiting_review", 60_000),
    ];
    const bodyOf = (sid: string) => sessionRequests(mock, sid)[0]!.body as Record<string, unknown>;
    assertEquals(bodyOf(a.session_id!).output_config, { effort: "high" });
    assertEquals(bodyOf(b.session_id!).output_config, undefined);
    assertEquals(bodyOf(b.session_id!).model, "claude-opus-4-7");
  });
});

Deno.test("real CLI: an HTTP 500 ends the agent failed with api_error (is_error, not text)", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "SCENARIO_HTTP_500",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    const agent = await waitForStatus(h, a.id, "failed", 60_000);
    assertEquals(agent.error_code, "api_error");
    const result = JSON.parse(
      h.engine.store.readMessages(a.id, 0, 100).find((m) => m.type === "result")!.raw,
    );
    assertEquals([result.is_error, result.api_error_status, result.subtype], [
      true,
      500,
      "success",
    ]);
  });
});

Deno.test("real CLI: cancel during a running Bash tool leaves 0 descendants", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "SCENARIO_BG_SLEEP",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    // The tool's `sleep 600` runs in a session of its own; the marker finds it.
    await waitFor("the Bash tool's sleep", async () => {
      const table = await new Deno.Command("ps", {
        args: ["-eww", "-o", "pid=,args=", "e"],
        stdout: "piped",
      })
        .output();
      return new TextDecoder().decode(table.stdout).split("\n").some((l) =>
        l.includes("sleep 600") && l.includes(`HERO_ORCHESTRATOR_AGENT=${a.id}.`)
      );
    }, 60_000);
    const agent = await h.engine.supervisor.cancel(a.id);
    assertEquals(agent.status, "cancelled");
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("real CLI: a follow-up resumes the same session and the API sees the earlier turn", async () => {
  await withRealEngine(async (h, mock) => {
    const a = h.engine.supervisor.create({
      prompt: "first question",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    const first = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    await h.engine.supervisor.followUp(a.id, "second question");
    await waitFor("the second turn", () => h.engine.store.getAgent(a.id)!.turn_count === 2, 60_000);
    const second = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assertEquals(second.session_id, first.session_id);
    const requests = sessionRequests(mock, first.session_id!);
    const last = userTexts(requests.at(-1)!);
    assert(
      last.includes("first question") && last.includes("second question"),
      JSON.stringify(last),
    );
    const seqs = h.engine.store.readMessages(a.id, 0, 1000).map((m) => m.seq);
    assertEquals(seqs, seqs.map((_, i) => i + 1));
  });
});

Deno.test("real CLI: the first prompt and the follow-up are stored as replayed user lines, in order", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "first question",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    await waitForStatus(h, a.id, "awaiting_review", 60_000);
    await h.engine.supervisor.followUp(a.id, "second question");
    await waitFor("the second turn", () => h.engine.store.getAgent(a.id)!.turn_count === 2, 60_000);
    await waitForStatus(h, a.id, "awaiting_review", 60_000);
    const lines = h.engine.store.readMessages(a.id, 0, 1000).map((m) => ({
      seq: m.seq,
      type: m.type,
      subtype: m.subtype,
      value: JSON.parse(m.raw) as Record<string, unknown>,
    }));
    assertEquals(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
    const prompts = lines.filter((l) => l.type === "user" && l.value.isReplay === true);
    // Exactly once each, as the text blocks we sent on stdin.
    assertEquals(
      prompts.map((l) => (l.value.message as { content: unknown }).content),
      [[{ type: "text", text: "first question" }], [{ type: "text", text: "second question" }]],
    );
    const [first, second] = prompts;
    const inits = lines.filter((l) => l.subtype === "init");
    const results = lines.filter((l) => l.type === "result");
    const assistants = lines.filter((l) => l.type === "assistant");
    assertEquals([inits.length, results.length], [2, 2]);
    // Each process: init, then its prompt (after `system/status` frames, which partial messages
    // bring), then the answer.
    const nextAfter = (seq: number) => lines.find((l) => l.seq > seq && l.subtype !== "status");
    assertEquals(nextAfter(inits[0]!.seq)?.seq, first!.seq);
    assertEquals(nextAfter(inits[1]!.seq)?.seq, second!.seq);
    assert(assistants.filter((l) => l.seq < results[0]!.seq).every((l) => l.seq > first!.seq));
    assert(results[0]!.seq < second!.seq, "the follow-up comes after the first turn's result");
    const secondTurn = assistants.filter((l) => l.seq > results[0]!.seq);
    assert(secondTurn.length > 0 && secondTurn.every((l) => l.seq > second!.seq));
    assert(second!.seq < results[1]!.seq);
  });
});

Deno.test("real CLI: a background Bash job never outlives its agent", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "SCENARIO_BACKGROUND",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    const agent = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assertEquals(agent.result, "started in the background");
    // The CLI keeps running for its background job after the result; the job is ours to end.
    assert((await markedProcesses([a.id])).length > 0, "the background job should be running");
    const settled = await h.engine.supervisor.settled(a.id);
    assertEquals(settled.status, "awaiting_review");
    assertEquals(await markedProcesses([a.id]), []);
  }, (s) => (s.supervisor.resultExitGraceMs = 1_500));
});
