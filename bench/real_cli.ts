/**
 * Scenario 6, real CLI: the real `claude` (2.1.328) against the mock Anthropic API. Time from
 * `agent.create` to the first line committed and to `awaiting_review`, against running the same
 * `claude` command (same argv, same environment, prompt on stdin) directly to its first stdout
 * line and to its `result` line. Runs alternate; the first of each is a warm-up.
 *
 * The CLI is the one the tests use: `$HERO_ORCHESTRATOR_REAL_CLAUDE`, else `claude` on PATH when it
 * is the tested version, else the pinned copy `deno task test` installs in `.ci/out/claude`.
 * @module
 */
import { buildClaudeArgs } from "@hero/core/claude";
import { TESTED_CLAUDE_VERSION } from "@hero/core/config";
import { realClaudeEnv, startMockAnthropic } from "@hero/core/testing";
import { spawnWithPrompt, startDaemon, withTimeout } from "./harness.ts";
import { summarize } from "./stats.ts";
import { type BenchContext, figure, NotRunError, type Scenario } from "./types.ts";

const MODEL = "claude-haiku-4-5";
const PROMPT = "say hi";

function runs(mode: BenchContext["mode"]): number {
  return mode === "smoke" ? 1 : mode === "quick" ? 3 : 7;
}

/** The pinned CLI `deno task test` installs when the one on PATH is missing or another version. */
const PINNED_CLAUDE = new URL("../.ci/out/claude/node_modules/.bin/claude", import.meta.url)
  .pathname;

/** `bin --version`, or null when it does not run as the claude CLI. */
async function versionOf(bin: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(bin, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      env: { PATH: Deno.env.get("PATH") ?? "", DISABLE_AUTOUPDATER: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    return out.success && text.includes("(Claude Code)") ? text.trim() : null;
  } catch {
    return null;
  }
}

/** The CLI to time (an absolute path) and its version; null when none runs. */
export async function findClaude(): Promise<{ bin: string; version: string } | null> {
  const fromEnv = Deno.env.get("HERO_ORCHESTRATOR_REAL_CLAUDE");
  const candidates = fromEnv ? [fromEnv] : ["claude", PINNED_CLAUDE];
  for (const candidate of candidates) {
    const version = await versionOf(candidate);
    if (!version) continue;
    // Not the tested version on PATH: the pinned copy, if there is one, is what the tests ran.
    if (!fromEnv && candidate === "claude" && !version.includes(TESTED_CLAUDE_VERSION)) {
      if (await versionOf(PINNED_CLAUDE)) continue;
    }
    return { bin: await absolute(candidate), version };
  }
  return null;
}

async function absolute(bin: string): Promise<string> {
  if (bin.includes("/")) return bin;
  const out = await new Deno.Command("sh", {
    args: ["-c", 'command -v "$1"', "sh", bin],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() || bin;
}

/** Direct run: spawn → first stdout line, → result line (ms). */
async function direct(
  bin: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ first: number; result: number }> {
  const args = buildClaudeArgs({
    model: MODEL,
    effort: "low",
    permissionMode: "bypassPermissions",
  });
  const t0 = performance.now();
  const child = await spawnWithPrompt({ bin, args, cwd, env, prompt: PROMPT });
  let first = NaN;
  let result = NaN;
  let buf = "";
  const decoder = new TextDecoder();
  const read = (async () => {
    for await (const chunk of child.stdout) {
      const at = performance.now();
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (Number.isNaN(first)) first = at - t0;
        if (line.startsWith('{"type":"result"') || line.includes('"type":"result"')) {
          result = at - t0;
          await child.stdin.close().catch(() => {});
        }
        nl = buf.indexOf("\n");
      }
    }
  })();
  await withTimeout(read, 60_000, "the real CLI to finish").catch((err) => {
    child.kill("SIGKILL");
    throw err;
  });
  await child.status;
  if (Number.isNaN(result)) throw new Error("Cannot time the real CLI: no result line");
  return { first, result };
}

export const scenario: Scenario = {
  name: "real-cli",
  title: "Real CLI: agent.create → first line / awaiting_review vs the same claude command",
  async run(ctx) {
    const found = await findClaude();
    if (!found) {
      throw new NotRunError(
        `no claude CLI: set HERO_ORCHESTRATOR_REAL_CLAUDE, put claude on PATH, or run \`deno task test\` once (it installs ${TESTED_CLAUDE_VERSION} into .ci/out/claude)`,
      );
    }
    const bin = found.bin;
    const n = runs(ctx.mode);
    await using mock = await startMockAnthropic();
    const home = `${ctx.tmp}/home`;
    const configDir = `${ctx.tmp}/config`;
    const cwd = `${ctx.tmp}/daemon/work`;
    for (const d of [home, configDir, cwd]) await Deno.mkdir(d, { recursive: true });
    // The production permission set denies the daemon ANTHROPIC_API_KEY (only the proxy holds a
    // real key), so both runs authenticate to the mock with a bearer token instead.
    const cliEnv: Record<string, string> = realClaudeEnv({
      mockUrl: mock.url,
      home,
      configDir,
      maxRetries: 0,
      extra: { ANTHROPIC_AUTH_TOKEN: "sk-test" },
    });
    delete cliEnv.ANTHROPIC_API_KEY;
    await using d = await startDaemon(`${ctx.tmp}/daemon`, {
      HOME: home,
      HERO_ORCHESTRATOR_CLAUDE_BIN: bin,
      HERO_ORCHESTRATOR_MODELS: `${MODEL},claude-sonnet-4-6`,
      HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
      HERO_ORCHESTRATOR_API_TIMEOUT_MS: "20000",
      HERO_ORCHESTRATOR_CHILD_ENV: "DISABLE_TELEMETRY",
      ANTHROPIC_BASE_URL: mock.url,
      ANTHROPIC_AUTH_TOKEN: "sk-test",
      CLAUDE_CONFIG_DIR: configDir,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
    });
    const firstLine = new Map<string, PromiseWithResolvers<number>>();
    const done = new Map<string, PromiseWithResolvers<{ at: number; status: string }>>();
    const waiter = <T>(m: Map<string, PromiseWithResolvers<T>>, id: string) => {
      let w = m.get(id);
      if (!w) m.set(id, w = Promise.withResolvers<T>());
      return w;
    };
    const abort = new AbortController();
    const pump = (async () => {
      const events = d.client.events({ signal: abort.signal, lastEventId: 0 });
      for await (const e of events) {
        const at = performance.now();
        if (e.event === "message" && e.data.seq === 1) {
          waiter(firstLine, e.data.agent_id).resolve(at);
        }
        if (
          e.event === "agent" && ["awaiting_review", "failed", "cancelled"].includes(e.data.status)
        ) {
          waiter(done, e.data.id).resolve({ at, status: e.data.status });
        }
      }
    })().catch(() => {});
    const viaDaemon = async () => {
      const t0 = performance.now();
      const agent = await d.client.agent.create({
        prompt: PROMPT,
        cwd,
        model: MODEL,
        effort: "low",
      });
      const first = await withTimeout(waiter(firstLine, agent.id).promise, 60_000, "a first line");
      const end = await withTimeout(waiter(done, agent.id).promise, 60_000, "awaiting_review");
      if (end.status !== "awaiting_review") {
        const a = await d.client.agent.get({ id: agent.id });
        throw new Error(
          `Cannot run the real CLI through the daemon: ${a.status}: ${a.error_message}`,
        );
      }
      return { first: first - t0, result: end.at - t0 };
    };
    ctx.log(`real-cli: warm-up, then ${n} runs each (${bin})`);
    await direct(bin, cliEnv, cwd);
    await viaDaemon();
    const d1: number[] = [];
    const d2: number[] = [];
    const o1: number[] = [];
    const o2: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = await direct(bin, cliEnv, cwd);
      d1.push(a.first);
      d2.push(a.result);
      const b = await viaDaemon();
      o1.push(b.first);
      o2.push(b.result);
    }
    abort.abort();
    await pump;
    const [sd1, sd2, so1, so2] = [d1, d2, o1, o2].map(summarize);
    return {
      figures: [
        figure({
          id: "real_cli.first_line",
          label: `real claude: create → first line committed, p50 (n=${n})`,
          unit: "ms",
          value: so1!.p50,
          baseline: { label: "same claude command → first line, p50", value: sd1!.p50 },
          ratioKind: "diff",
          detail: { daemon: so1, direct: sd1 },
        }),
        figure({
          id: "real_cli.awaiting_review",
          label: `real claude: create → awaiting_review, p50 (n=${n})`,
          unit: "ms",
          value: so2!.p50,
          baseline: { label: "same claude command → result line, p50", value: sd2!.p50 },
          ratioKind: "diff",
          detail: { daemon: so2, direct: sd2 },
        }),
      ],
      notes: [
        `real claude ${found.version} (${bin}) against the mock API on ${mock.url}; ${mock.requests.length} mock requests`,
      ],
      data: { daemon_first: o1, daemon_review: o2, direct_first: d1, direct_result: d2 },
    };
  },
};
