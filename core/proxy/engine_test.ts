/**
 * The proxy inside the engine: tokens minted at spawn and revoked at the end, children's
 * environment, usage snapshots through `usage.report()`, and no leak of the real key anywhere.
 */
import assert from "node:assert/strict";
import { fakePrompt, REAL_CLAUDE_BIN, sseResponse, startMockAnthropic } from "../testing/mod.ts";
import { waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";
import { TOKEN_PATTERN } from "./token.ts";

const REAL_KEY = "sk-ant-api03-REAL-daemon-key-do-not-leak-42";
const UNKNOWN = {
  type: "error",
  error: { type: "permission_error", message: "unknown proxy token" },
};

interface Recorded {
  argv: string[];
  env: Record<string, string>;
}

Deno.test("engine proxy (scope all): per-agent tokens from spawn to terminal; misuse is 403 with 0 upstream calls", async () => {
  await using mock = await startMockAnthropic();
  await withEngine({
    env: {
      HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
      HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
      ANTHROPIC_API_KEY: REAL_KEY,
      ANTHROPIC_BASE_URL: "https://direct.example",
    },
  }, async (h) => {
    const rec = (name: string) => `${h.cwd}/${name}.json`; // the cwd: shared with the sandbox
    const agent = (name: string) =>
      h.engine.supervisor.create({
        prompt: fakePrompt([{ init: true }, { record: rec(name) }, { hang: true }]),
        cwd: h.cwd,
      });
    const a = agent("a");
    const b = agent("b");
    const read = async (name: string): Promise<Recorded> =>
      JSON.parse(
        await waitFor(`${name}'s record`, async () => {
          try {
            return await Deno.readTextFile(rec(name));
          } catch {
            return undefined;
          }
        }),
      );
    const ra = await read("a");
    const rb = await read("b");
    const tokenA = ra.env.ANTHROPIC_AUTH_TOKEN!;
    const tokenB = rb.env.ANTHROPIC_AUTH_TOKEN!;
    assert.match(tokenA, TOKEN_PATTERN);
    assert.notEqual(tokenA, tokenB);
    // The child's environment: the proxy, its own token, no real key, no argv exposure.
    assert.equal(ra.env.ANTHROPIC_UNIX_SOCKET, h.engine.paths.proxySocket);
    assert.equal(ra.env.ANTHROPIC_BASE_URL, `http://localhost/a/${a.id}`);
    assert.equal(ra.env.ANTHROPIC_API_KEY, undefined);
    assert.equal(ra.env.CLAUDE_CONFIG_DIR, `${h.engine.paths.stateDir}/claude-proxied`);
    assert.ok(!JSON.stringify(ra.env).includes(REAL_KEY));
    assert.ok(!ra.argv.join(" ").includes(tokenA), "the token is in argv");
    assert.equal(Deno.statSync(h.engine.paths.proxySocket).mode! & 0o777, 0o600);

    const client = Deno.createHttpClient({
      proxy: { transport: "unix", path: h.engine.paths.proxySocket },
    });
    const call = (path: string, token: string) =>
      fetch(`http://localhost${path}?beta=true`, {
        client,
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "m",
          max_tokens: 1,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
    try {
      const flipped = tokenA.slice(0, -1) + (tokenA.endsWith("A") ? "B" : "A");
      for (
        const [what, path, token] of [
          ["A's token for B", `/a/${b.id}/v1/messages`, tokenA],
          ["B's token for A", `/a/${a.id}/v1/messages`, tokenB],
          ["one flipped byte", `/a/${a.id}/v1/messages`, flipped],
        ]
      ) {
        const res = await call(path!, token!);
        assert.equal(res.status, 403, what);
        assert.deepEqual(await res.json(), UNKNOWN, what);
      }
      assert.equal(mock.requests.length, 0);
      // A's own token works while A runs.
      const ok = await call(`/a/${a.id}/v1/messages`, tokenA);
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
      assert.equal(mock.requests.length, 1);
      assert.equal(mock.requests[0]!.headers["x-api-key"], REAL_KEY);
      // Terminal: revoked at once (in the same transaction as the status).
      await h.engine.supervisor.cancel(a.id);
      const late = await call(`/a/${a.id}/v1/messages`, tokenA);
      assert.equal(late.status, 403);
      assert.deepEqual(await late.json(), UNKNOWN);
      assert.equal(mock.requests.length, 1, "a revoked token reached the upstream");
      // Only hashes are stored.
      const db = await Deno.readFile(h.engine.paths.dbPath);
      const wal = await Deno.readFile(`${h.engine.paths.dbPath}-wal`).catch(() => new Uint8Array());
      const bytes = new TextDecoder("latin1").decode(db) + new TextDecoder("latin1").decode(wal);
      assert.ok(!bytes.includes(tokenA) && !bytes.includes(tokenB), "a token is stored in clear");
      await h.engine.supervisor.cancel(b.id);
    } finally {
      client.close();
    }
  });
});

Deno.test("engine proxy: rate-limit headers of the mock show in usage.report() within 1 s (real CLI)", async () => {
  await using mock = await startMockAnthropic({
    handler: (req) => {
      if (
        !req.path.endsWith("/v1/messages") || (req.body as { stream?: boolean })?.stream !== true
      ) {
        return undefined;
      }
      const res = sseResponse({ blocks: [{ type: "text", text: "limited" }] });
      res.headers.set("anthropic-ratelimit-unified-status", "allowed_warning");
      res.headers.set("anthropic-ratelimit-unified-5h-utilization", "0.91");
      res.headers.set("anthropic-ratelimit-unified-5h-reset", "1795612807");
      res.headers.set("anthropic-ratelimit-unified-7d-utilization", "0.35");
      res.headers.set("anthropic-ratelimit-unified-7d-reset", "1796000000");
      res.headers.set("anthropic-ratelimit-unified-representative-claim", "five_hour");
      return res;
    },
  });
  const config = await Deno.makeTempDir();
  try {
    await withEngine({
      env: {
        HERO_ORCHESTRATOR_CLAUDE_BIN: REAL_CLAUDE_BIN,
        HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
        HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
        ANTHROPIC_API_KEY: REAL_KEY,
        CLAUDE_CONFIG_DIR: config,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
      },
    }, async (h) => {
      const a = h.engine.supervisor.create({ prompt: "hi", cwd: h.cwd, model: "claude-haiku-4-5" });
      const request = await mock.waitForRequests(1, { path: "/v1/messages", timeoutMs: 60_000 });
      const arrived = request[0]!.at;
      const report = await waitFor("the snapshot", () => {
        const r = h.engine.usage.report();
        return r.rate_limit ? r : undefined;
      }, 5_000);
      const seenAfter = Date.now() - arrived;
      assert.ok(seenAfter <= 1000, `snapshot visible ${seenAfter} ms after the upstream answered`);
      const rl = report.rate_limit!;
      assert.equal(rl.agent_id, a.id);
      assert.equal(rl.unified_status, "allowed_warning");
      assert.equal(rl.representative_claim, "five_hour");
      const five = rl.windows.find((w) => w.name === "5h")!;
      assert.deepEqual([five.utilization, five.resets_at], [0.91, 1795612807000]);
      assert.equal(rl.windows.find((w) => w.name === "7d")!.utilization, 0.35);
      const done = await waitForStatus(h, a.id, "awaiting_review", 60_000);
      assert.equal(done.result, "limited");
      // The per-agent view: the proxy's wire tally next to the CLI's own figures.
      await waitFor("the tally", () => h.engine.store.proxyTally(a.id), 2_000);
      const mine = h.engine.usage.report({ agentId: a.id, period: "1h" });
      assert.equal(mine.agent!.proxy!.output_tokens, done.output_tokens);
      assert.equal(mine.agent!.usage.output_tokens, done.output_tokens);
      assert.equal(mine.agent!.usage.cost_usd, done.total_cost_usd);
      assert.equal(mine.totals.turns, 1);
      assert.equal(mine.proxy.credential.kind, "api_key");
      assert.ok(!JSON.stringify(mine).includes(REAL_KEY));
    });
  } finally {
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test("engine proxy: after runs covering 401, 429 and 500 the real key is in no DB, log, argv or transcript", async () => {
  await using mock = await startMockAnthropic();
  const config = await Deno.makeTempDir();
  const logs: unknown[] = [];
  const argvSeen = new Set<string>();
  try {
    await withEngine({
      env: {
        HERO_ORCHESTRATOR_CLAUDE_BIN: REAL_CLAUDE_BIN,
        HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
        HERO_ORCHESTRATOR_PROXY_LOG_ERRORS: "1",
        HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
        ANTHROPIC_API_KEY: REAL_KEY,
        CLAUDE_CONFIG_DIR: config,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
        HERO_ORCHESTRATOR_SHADOWS: "naming",
        HERO_ORCHESTRATOR_SHADOW_RETRIES: "0",
      },
      log: (level, message, fields) => logs.push({ level, message, ...fields }),
    }, async (h) => {
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const ps = await new Deno.Command("ps", {
            args: ["-eww", "-o", "args="],
            stdout: "piped",
          })
            .output();
          for (const line of new TextDecoder().decode(ps.stdout).split("\n")) argvSeen.add(line);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const prompts = [
        "SCENARIO_HTTP_401",
        "SCENARIO_HTTP_429",
        "SCENARIO_HTTP_500",
        "SCENARIO_ENV",
      ];
      const ids = prompts.map((prompt) =>
        h.engine.supervisor.create({ prompt, cwd: h.cwd, model: "claude-haiku-4-5" }).id
      );
      // The server's credential is an API key: a 401 is that key refused.
      const codes = ["invalid_api_key", "rate_limited", "api_error"];
      for (const [i, id] of ids.entries()) {
        const status = i < 3 ? "failed" : "awaiting_review";
        const agent = await waitForStatus(h, id, status, 60_000);
        if (i < 3) assert.equal(agent.error_code, codes[i], prompts[i]);
      }
      await h.engine.shadows.close();
      sampling = false;
      await sampler;
      const statuses = mock.requests.filter((r) => r.path === "/v1/messages").length;
      assert.ok(statuses >= 4);
      // Every request reached the upstream with the real key, none with a proxy token.
      for (const r of mock.requests.filter((r) => r.method === "POST")) {
        assert.equal(r.headers["x-api-key"], REAL_KEY);
        assert.ok(!JSON.stringify(r.headers).includes("hop_"));
      }
      // The tool's environment (what any agent code can see) holds no key.
      const dump = await Deno.readTextFile(`${h.cwd}/env_dump.txt`);
      assert.match(dump, /ANTHROPIC_AUTH_TOKEN=hop_/);
      assert.ok(!dump.includes(REAL_KEY), "the real key reached the agent's tools");
      await h.engine.writer.flush();
      h.engine.store.checkpoint();
      // Database (and WAL), the proxied children's config dir (transcripts): all under the state
      // dir; the direct agents' config dir; the logs; every argv seen while the agents ran.
      const blobs: Array<[string, string]> = [];
      for (const root of [h.engine.paths.stateDir, config]) {
        for await (const file of walk(root)) {
          blobs.push([file, new TextDecoder("latin1").decode(await Deno.readFile(file))]);
        }
      }
      assert.ok(blobs.some(([f]) => f.endsWith("db.sqlite")));
      assert.ok(
        blobs.some(([f]) => f.includes("claude-proxied/projects/") && f.endsWith(".jsonl")),
        "the proxied transcripts were scanned",
      );
      blobs.push(["logs", JSON.stringify(logs)]);
      blobs.push(["argv", [...argvSeen].join("\n")]);
      for (const [where, text] of blobs) {
        assert.ok(!text.includes(REAL_KEY), `the real key is in ${where}`);
        assert.ok(
          !/hop_[A-Za-z0-9_-]{43}/.test(text) || where.includes("claude-proxied"),
          `a proxy token is in ${where}`,
        );
      }
      assert.ok(JSON.stringify(logs).includes("upstream error"), "401/429/500 were logged");
    });
  } finally {
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
});

Deno.test("engine proxy: without an upstream credential a live token gets 401 authentication_error, no upstream call", async () => {
  await using mock = await startMockAnthropic();
  const empty = await Deno.makeTempDir();
  try {
    await withEngine({
      env: {
        HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
        HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
        CLAUDE_CONFIG_DIR: empty,
      },
    }, async (h) => {
      const rec = `${h.cwd}/r.json`;
      const a = h.engine.supervisor.create({
        prompt: fakePrompt([{ init: true }, { record: rec }, { hang: true }]),
        cwd: h.cwd,
      });
      const recorded: Recorded = JSON.parse(
        await waitFor("the record", async () => {
          try {
            return await Deno.readTextFile(rec);
          } catch {
            return undefined;
          }
        }),
      );
      const client = Deno.createHttpClient({
        proxy: { transport: "unix", path: h.engine.paths.proxySocket },
      });
      try {
        const res = await fetch(`http://localhost/a/${a.id}/v1/messages`, {
          client,
          method: "POST",
          headers: { authorization: `Bearer ${recorded.env.ANTHROPIC_AUTH_TOKEN}` },
          body: "{}",
        });
        assert.equal(res.status, 401);
        assert.equal((await res.json()).error.type, "authentication_error");
      } finally {
        client.close();
      }
      assert.equal(mock.requests.length, 0);
      assert.equal(h.engine.usage.report().proxy.credential.kind, null);
      assert.match(h.engine.usage.report().proxy.credential.detail!, /no ANTHROPIC_API_KEY/);
      await h.engine.supervisor.cancel(a.id);
    });
  } finally {
    await Deno.remove(empty, { recursive: true }).catch(() => {});
  }
});

Deno.test("engine proxy: without HERO_ORCHESTRATOR_UPSTREAM_URL, requests go to ANTHROPIC_BASE_URL", async () => {
  await using mock = await startMockAnthropic();
  await withEngine({
    env: {
      HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
      ANTHROPIC_BASE_URL: mock.url,
      ANTHROPIC_AUTH_TOKEN: "gateway-token",
    },
  }, async (h) => {
    const rec = `${h.cwd}/gw.json`;
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { record: rec }, { hang: true }]),
      cwd: h.cwd,
    });
    const recorded: Recorded = JSON.parse(
      await waitFor("the child's record", async () => {
        try {
          return await Deno.readTextFile(rec);
        } catch {
          return undefined;
        }
      }),
    );
    const client = Deno.createHttpClient({
      proxy: { transport: "unix", path: h.engine.paths.proxySocket },
    });
    try {
      const res = await fetch(`http://localhost/a/${a.id}/v1/messages`, {
        client,
        method: "POST",
        headers: {
          authorization: `Bearer ${recorded.env.ANTHROPIC_AUTH_TOKEN}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: "m",
          max_tokens: 1,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal(mock.requests.length, 1, "the request did not reach ANTHROPIC_BASE_URL");
    } finally {
      client.close();
      await h.engine.supervisor.cancel(a.id);
    }
  });
});
