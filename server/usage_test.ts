/**
 * RPC surface of the quota proxy, shadows and usage telemetry: `usage.get`, `agent.complete
 * {commit: true}`, `agent.commit_info`, shadows hidden from the buckets but listed by parent.
 */
import assert from "node:assert/strict";
import {
  fakePrompt,
  git,
  gitRepo,
  REAL_CLAUDE_BIN,
  sseResponse,
  startMockAnthropic,
} from "@hero/core/testing";
import { RpcError } from "@hero/sdk";
import { startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";

const REAL_KEY = "sk-ant-api03-REAL-key-for-rpc-tests-7";

Deno.test("usage.get: the mock's rate-limit headers appear within 1 s of the upstream answer (real CLI)", async () => {
  await using mock = await startMockAnthropic({
    handler: (req) => {
      if (
        !req.path.endsWith("/v1/messages") || (req.body as { stream?: boolean })?.stream !== true
      ) {
        return undefined;
      }
      const res = sseResponse({ blocks: [{ type: "text", text: "ok" }] });
      res.headers.set("anthropic-ratelimit-unified-status", "allowed");
      res.headers.set("anthropic-ratelimit-unified-5h-utilization", "0.42");
      res.headers.set("anthropic-ratelimit-unified-5h-reset", "1795612807");
      res.headers.set("anthropic-ratelimit-unified-7d-utilization", "0.1");
      res.headers.set("anthropic-ratelimit-unified-7d-reset", "1796000000");
      return res;
    },
  });
  await using t = await tempEnv({
    HERO_ORCHESTRATOR_CLAUDE_BIN: REAL_CLAUDE_BIN,
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
    HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
    ANTHROPIC_API_KEY: REAL_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  });
  await using d = await startInProcess(t.env);
  const before = await d.client.usage.get({});
  assert.equal(before.rate_limit, null);
  assert.equal(before.proxy.scope, "all");
  assert.equal(before.oauth_poll.status, "disabled");
  assert.match(before.oauth_poll.detail!, /HERO_ORCHESTRATOR_USAGE_POLL_MS is 0/);
  const agent = await d.client.agent.create({
    prompt: "hi",
    cwd: t.work,
    model: "claude-haiku-4-5",
  });
  const [answered] = await mock.waitForRequests(1, { path: "/v1/messages", timeoutMs: 60_000 });
  const report = await waitFor("the snapshot in usage.get", async () => {
    const r = await d.client.usage.get({ period: "1h" });
    return r.rate_limit ? r : undefined;
  }, 5_000);
  const after = Date.now() - answered!.at;
  assert.ok(after <= 1000, `visible ${after} ms after the upstream answered`);
  assert.equal(report.rate_limit!.agent_id, agent.id);
  assert.deepEqual(
    report.rate_limit!.windows.filter((w) => w.name === "5h").map((
      w,
    ) => [w.utilization, w.resets_at]),
    [[0.42, 1795612807000]],
  );
  assert.equal(report.proxy.credential.kind, "api_key");
  assert.equal(report.proxy.credential.source, "ANTHROPIC_API_KEY");
  assert.ok(!JSON.stringify(report).includes(REAL_KEY));
  const done = await waitFor("review", async () => {
    const a = await d.client.agent.get({ id: agent.id });
    return a.status === "awaiting_review" ? a : undefined;
  }, 60_000);
  const mine = await waitFor("the agent's figures", async () => {
    const r = await d.client.usage.get({ agent_id: agent.id });
    return r.agent?.proxy ? r : undefined;
  });
  assert.equal(mine.agent!.usage.cost_usd, done.total_cost_usd);
  assert.equal(mine.agent!.proxy!.output_tokens, done.output_tokens);
  assert.ok(mine.agent!.snapshots.length >= 1);
  assert.equal(mine.series.buckets.length, 24);
  assert.ok(mine.cost_today_usd >= done.total_cost_usd);
  await assert.rejects(
    () => d.client.usage.get({ agent_id: "no-such-agent" }),
    (err) => err instanceof RpcError && err.reason === "not_found",
  );
});

Deno.test("agent.complete {commit: true}: commits the agent's files, or refuses clearly and changes nothing", async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_SHADOWS: "naming,commit" });
  await using d = await startInProcess(t.env);
  await gitRepo(t.work);
  // The commit of an agent that works in the repository itself; an isolated agent's work is
  // merged from its own branch instead (agent.complete {merge}, core/engine/isolation_test.ts).
  const writeFile = (file: string, text: string) =>
    fakePrompt({
      auto: true,
      steps: [{ spawnWait: `printf '${text}' > ${file}` }, { text: "done" }],
    });

  // 1. Clean start: the agent adds new.txt; the (fake) commit shadow's echo is no conventional
  //    message, so the fixed one is used.
  const a = await d.client.agent.create({
    prompt: writeFile("new.txt", "new\\n"),
    cwd: t.work,
    isolation: "none",
  });
  assert.ok(a.name, "a fallback name at once");
  await waitFor(
    "review",
    async () => (await d.client.agent.get({ id: a.id })).status === "awaiting_review",
  );
  const info = await waitFor("the proposal", async () => {
    const i = await d.client.agent.commitInfo({ id: a.id });
    return i.proposal && !i.shadow_pending ? i : undefined;
  });
  assert.equal(info.worktree!.toplevel, await Deno.realPath(t.work));
  assert.deepEqual(info.proposal!.files, ["new.txt"]);
  assert.equal(info.proposal!.source, "fallback");
  const done = await d.client.agent.complete({ id: a.id, commit: true });
  assert.equal(done.status, "completed");
  assert.equal(done.commit!.source, "fallback");
  assert.deepEqual(done.commit!.files, ["new.txt"]);
  assert.equal(await git(t.work, "rev-parse", "HEAD"), done.commit!.sha);
  assert.match(await git(t.work, "log", "-1", "--format=%s"), /^chore: /);
  assert.equal(await git(t.work, "status", "--porcelain"), "");
  assert.equal((await d.client.agent.commitInfo({ id: a.id })).proposal!.sha, done.commit!.sha);

  // 2. A file that already had uncommitted changes is changed again: refused, nothing changes.
  await Deno.writeTextFile(`${t.work}/a.txt`, "a\nmine\n");
  const b = await d.client.agent.create({
    prompt: writeFile("a.txt", "agent\\n"),
    cwd: t.work,
    isolation: "none",
  });
  await waitFor(
    "review",
    async () => (await d.client.agent.get({ id: b.id })).status === "awaiting_review",
  );
  const head = await git(t.work, "rev-parse", "HEAD");
  await assert.rejects(
    () => d.client.agent.complete({ id: b.id, commit: true }),
    (err) =>
      err instanceof RpcError && err.reason === "commit_refused" && err.code === -32008 &&
      /already had uncommitted changes/.test(err.message) && /a\.txt/.test(err.message),
  );
  assert.equal(await git(t.work, "rev-parse", "HEAD"), head);
  assert.equal((await d.client.agent.get({ id: b.id })).status, "awaiting_review");
  // Completing without a commit still works.
  assert.equal((await d.client.agent.complete({ id: b.id })).commit, null);

  // 3. Not a git work tree.
  const plain = `${t.dir}/plain`;
  await Deno.mkdir(plain);
  const c = await d.client.agent.create({ prompt: writeFile("x.txt", "x"), cwd: plain });
  await waitFor(
    "review",
    async () => (await d.client.agent.get({ id: c.id })).status === "awaiting_review",
  );
  await assert.rejects(
    () => d.client.agent.complete({ id: c.id, commit: true }),
    (err) =>
      err instanceof RpcError && err.reason === "commit_refused" &&
      /git work tree/.test(err.message),
  );

  // Shadows: hidden from the buckets, listed under their parent.
  for (const bucket of ["running", "awaiting_review", "completed"] as const) {
    const page = await d.client.agent.list({ bucket, limit: 500 });
    assert.ok(page.agents.every((x) => x.kind !== "shadow"), `a shadow in bucket ${bucket}`);
  }
  const shadows = await d.client.agent.list({ parent_id: a.id });
  assert.deepEqual(shadows.agents.map((s) => s.kind).sort(), ["shadow", "shadow"]);
  assert.deepEqual(shadows.agents.map((s) => s.name).sort(), ["commit shadow", "naming shadow"]);
  assert.ok(shadows.agents.every((s) => s.parent_id === a.id));
});
