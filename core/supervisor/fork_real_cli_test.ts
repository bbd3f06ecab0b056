/**
 * `Supervisor.fork()` with the real (pinned) claude CLI against the mock Anthropic API: the fork's
 * first request carries exactly the turns up to the chosen message, under a new session id; an
 * imported session is adopted (resumed under its own id) by a supervised agent.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  type MockAnthropic,
  type MockRequest,
  realCliDaemonEnv,
  runRealClaudeTurn,
  sessionRequests,
  startMockAnthropic,
} from "../testing/mod.ts";
import { type Harness, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

async function withRealEngine(
  fn: (h: Harness, mock: MockAnthropic) => Promise<void>,
  options: { mock?: MockAnthropic; configDir?: string; env?: Record<string, string> } = {},
) {
  const mock = options.mock ?? await startMockAnthropic();
  const config = options.configDir ??
    await Deno.makeTempDir({ prefix: "hero_claude_config_" });
  try {
    await withEngine({
      env: {
        ...realCliDaemonEnv({ mockUrl: mock.url, configDir: config }),
        DISABLE_TELEMETRY: "1",
        HERO_ORCHESTRATOR_CHILD_ENV: "DISABLE_TELEMETRY",
        ...options.env,
      },
    }, (h) => fn(h, mock));
  } finally {
    if (!options.mock) await mock.close();
    if (!options.configDir) await Deno.remove(config, { recursive: true }).catch(() => {});
  }
}

/** The conversation of a request: role and the text blocks (system reminders left out). */
function turnsOf(request: MockRequest): { role: string; text: string }[] {
  const body = request.body as { messages?: { role: string; content: unknown }[] } | null;
  const turns: { role: string; text: string }[] = [];
  for (const message of body?.messages ?? []) {
    const blocks = typeof message.content === "string"
      ? [{ type: "text", text: message.content }]
      : Array.isArray(message.content)
      ? message.content as { type?: string; text?: string }[]
      : [];
    for (const block of blocks) {
      if (block?.type !== "text" || typeof block.text !== "string") continue;
      if (block.text.startsWith("<system-reminder>")) continue;
      turns.push({ role: message.role, text: block.text });
    }
  }
  return turns;
}

Deno.test("real CLI: a fork at message k sends exactly the turns up to k, under a new session", async () => {
  await withRealEngine(async (h, mock) => {
    const model = "claude-haiku-4-5";
    const a = h.engine.supervisor.create({ prompt: "first alpha", cwd: h.cwd, model });
    await waitForStatus(h, a.id, "awaiting_review", 90_000);
    for (const [i, prompt] of ["second beta", "third gamma"].entries()) {
      await h.engine.supervisor.followUp(a.id, prompt);
      await waitFor(
        "the next turn",
        () => h.engine.store.getAgent(a.id)!.turn_count === i + 2,
        90_000,
      );
      await waitForStatus(h, a.id, "awaiting_review", 90_000);
    }
    const original = h.engine.store.getAgent(a.id)!;
    const lines = h.engine.store.readMessages(a.id, 0, 1000);
    // k = the answer of the second turn: the last assistant line before the second result.
    const secondResult = lines.filter((m) => m.type === "result")[1]!;
    const k = lines.filter((m) => m.type === "assistant" && m.seq < secondResult.seq).at(-1)!.seq;
    const before = mock.requests.length;

    const fork = await h.engine.supervisor.fork(a.id, k, "fork delta");
    const done = await waitForStatus(h, fork.id, "awaiting_review", 90_000);
    assert(done.session_id && done.session_id !== original.session_id, "a new session id");
    assertEquals(done.result, "Hello from mock");

    const requests = sessionRequests(mock, done.session_id!);
    assert(requests.length > 0, "the fork's requests carry its own session id");
    assert(mock.requests.indexOf(requests[0]!) >= before);
    assertEquals(turnsOf(requests[0]!), [
      { role: "user", text: "first alpha" },
      { role: "assistant", text: "Hello from mock" },
      { role: "user", text: "second beta" },
      { role: "assistant", text: "Hello from mock" },
      { role: "user", text: "fork delta" },
    ]);

    // The original session is untouched: a follow-up on it still sees all three turns.
    await h.engine.supervisor.followUp(a.id, "fourth epsilon");
    await waitFor("the fourth turn", () => h.engine.store.getAgent(a.id)!.turn_count === 4, 90_000);
    await waitForStatus(h, a.id, "awaiting_review", 90_000);
    const last = sessionRequests(mock, original.session_id!).at(-1)!;
    const texts = turnsOf(last).filter((t) => t.role === "user").map((t) => t.text);
    assertEquals(texts, ["first alpha", "second beta", "third gamma", "fourth epsilon"]);
  });
});

Deno.test("real CLI: a fork refuses a line that is not a message of the session", async () => {
  await withRealEngine(async (h) => {
    const a = h.engine.supervisor.create({
      prompt: "hi",
      cwd: h.cwd,
      model: "claude-haiku-4-5",
    });
    await waitForStatus(h, a.id, "awaiting_review", 90_000);
    const lines = h.engine.store.readMessages(a.id, 0, 1000);
    const result = lines.find((m) => m.type === "result")!;
    for (const seq of [result.seq, 0, 10_000]) {
      await assert.rejects(
        () => h.engine.supervisor.fork(a.id, seq, "x"),
        (err: unknown) => (err as { code?: string }).code === "invalid_params",
        `fork at ${seq}`,
      );
    }
  });
});

Deno.test("real CLI: a prompt to an imported session resumes that session id under supervision, from then on", async () => {
  await using mock = await startMockAnthropic();
  // A session started outside the supervisor, in its own config dir.
  await using outside = await runRealClaudeTurn({ mockUrl: mock.url, prompt: "outside kiwi" });
  assert.equal(outside.code, 0, outside.stderr);
  await withRealEngine(async (h) => {
    const report = await h.engine.ledger.import();
    assert.deepEqual([report.created, report.errors], [1, []]);
    const imported = h.engine.store.getAgent(report.agents[0]!)!;
    assert.equal(imported.session_id, outside.init!.session_id);

    const next = await h.engine.supervisor.followUp(imported.id, "inside lime");
    assert.notEqual(next.id, imported.id);
    assert.equal(next.kind, "standard");
    const done = await waitForStatus(h, next.id, "awaiting_review", 90_000);
    assert.equal(done.session_id, imported.session_id, "the same session, resumed (not forked)");
    const first = sessionRequests(mock, imported.session_id!)
      .find((r) => turnsOf(r).some((t) => t.text === "inside lime"))!;
    assertEquals(turnsOf(first), [
      { role: "user", text: "outside kiwi" },
      { role: "assistant", text: "Hello from mock" },
      { role: "user", text: "inside lime" },
    ]);
    // The session file (same config dir: a direct child) grew with the supervised turn, which the
    // ledger has from the agent's own output: an import leaves it alone from now on.
    assertEquals(h.engine.store.getAgent(imported.id)!.last_seq, imported.last_seq);
    const again = await h.engine.ledger.import();
    assertEquals([again.created, again.lines, again.supervised], [0, 0, 1]);
    assertEquals(h.engine.store.getAgent(imported.id)!.last_seq, imported.last_seq);

    // A later prompt to the imported agent goes to the session's supervised owner: no second
    // adoption, the conversation carries on in one place.
    const later = await h.engine.supervisor.followUp(imported.id, "inside mango");
    assert.equal(later.id, next.id);
    await waitFor(
      "the second turn",
      () => h.engine.store.getAgent(next.id)!.turn_count === 2,
      90_000,
    );
    const owned = await waitForStatus(h, next.id, "awaiting_review", 90_000);
    assert.equal(owned.session_id, imported.session_id);
    const last = sessionRequests(mock, imported.session_id!).at(-1)!;
    assertEquals(turnsOf(last).filter((t) => t.role === "user").map((t) => t.text), [
      "outside kiwi",
      "inside lime",
      "inside mango",
    ]);
    const standard = h.engine.store.listAgents({ kinds: ["standard"], limit: 10 }).agents;
    assertEquals(standard.map((a) => a.id), [next.id]);
  }, { mock, configDir: outside.configDir });
});

Deno.test("real CLI: proxied fork and continuation of an imported session use a copy in their own config dir", async () => {
  await using mock = await startMockAnthropic();
  await using outside = await runRealClaudeTurn({ mockUrl: mock.url, prompt: "outside plum" });
  assert.equal(outside.code, 0, outside.stderr);
  await withRealEngine(async (h) => {
    const report = await h.engine.ledger.import();
    const imported = h.engine.store.getAgent(report.agents[0]!)!;
    // A fork of the imported transcript at its answer (the copy is made for it first)...
    const answer = h.engine.store.readMessages(imported.id, 0, 100)
      .find((m) => m.type === "assistant")!;
    const fork = await h.engine.supervisor.fork(imported.id, answer.seq, "fork fig");
    const forked = await waitForStatus(h, fork.id, "awaiting_review", 90_000);
    assertEquals(
      turnsOf(sessionRequests(mock, forked.session_id!)[0]!).map((t) => t.text),
      ["outside plum", "Hello from mock", "fork fig"],
    );
    // ...and a continuation, which finds the copy in place.
    const next = await h.engine.supervisor.followUp(imported.id, "inside pear");
    const done = await waitForStatus(h, next.id, "awaiting_review", 90_000);
    assert.equal(done.session_id, imported.session_id);
    const first = sessionRequests(mock, done.session_id!)
      .find((r) => turnsOf(r).some((t) => t.text === "inside pear"))!;
    assertEquals(turnsOf(first).map((t) => t.text), [
      "outside plum",
      "Hello from mock",
      "inside pear",
    ]);
    // The copy lives in the proxied config dir; the user's file was not written to.
    const folder = (await Array.fromAsync(Deno.readDir(`${outside.configDir}/projects`)))[0]!.name;
    const copy =
      `${h.engine.paths.stateDir}/claude-proxied/projects/${folder}/${imported.session_id}.jsonl`;
    assert((await Deno.stat(copy)).isFile);
    const again = await h.engine.ledger.import();
    assertEquals([again.created, again.lines], [0, 0]);
  }, {
    mock,
    configDir: outside.configDir,
    env: { HERO_ORCHESTRATOR_PROXY_SCOPE: "all", HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url },
  });
});

Deno.test("real CLI: a fork of an isolated agent gets its own worktree and the turns up to k; a fork with isolation none runs in the repository", async () => {
  await withRealEngine(async (h, mock) => {
    const repo = `${h.dir}/repo`;
    await Deno.mkdir(repo);
    const git = (...args: string[]) =>
      new Deno.Command("git", { args, cwd: repo, stdout: "null", stderr: "null" }).output();
    await git("init", "-q", "-b", "main");
    await Deno.writeTextFile(`${repo}/README.md`, "hello\n");
    await git("add", ".");
    await git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
    const a = await h.engine.supervisor.worktrees.create({
      prompt: "first alpha",
      cwd: repo,
      model: "claude-haiku-4-5",
      isolation: "worktree",
    });
    const source = await waitForStatus(h, a.id, "awaiting_review", 90_000);
    const isoA = h.engine.store.isolation(a.id)!;
    const k = h.engine.store.readMessages(a.id, 0, 1000).find((m) => m.type === "assistant")!.seq;

    // Default: a fork of an isolated agent is isolated, in a worktree and branch of its own.
    const fork = await h.engine.supervisor.fork(a.id, k, "fork delta");
    const isoF = h.engine.store.isolation(fork.id);
    assert(isoF, "the fork has a worktree");
    assert.notEqual(isoF.worktree_path, isoA.worktree_path);
    assert.notEqual(isoF.branch, isoA.branch);
    assert.equal(isoF.repo_root, isoA.repo_root);
    assert.equal(h.engine.store.getAgent(fork.id)!.cwd, source.cwd);
    const done = await waitForStatus(h, fork.id, "awaiting_review", 90_000);
    assert(done.session_id && done.session_id !== source.session_id, "a new session id");
    assertEquals(turnsOf(sessionRequests(mock, done.session_id!)[0]!).map((t) => t.text), [
      "first alpha",
      "Hello from mock",
      "fork delta",
    ]);

    // Asked for none: no worktree; the session still resumes from the original's.
    const plain = await h.engine.supervisor.fork(a.id, k, "fork eta", { isolation: "none" });
    assert.equal(h.engine.store.isolation(plain.id), undefined);
    const ended = await waitForStatus(h, plain.id, "awaiting_review", 90_000);
    assertEquals(turnsOf(sessionRequests(mock, ended.session_id!)[0]!).map((t) => t.text), [
      "first alpha",
      "Hello from mock",
      "fork eta",
    ]);
  });
});
