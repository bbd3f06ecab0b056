import assert from "node:assert/strict";
import { TESTED_CLAUDE_VERSION } from "../config/mod.ts";
import { FAKE_CLAUDE_BIN, fakePrompt, userLine } from "./mod.ts";
import type { FakeStep } from "./mod.ts";

const STREAM_ARGS = [
  "--output-format",
  "stream-json",
  "--verbose",
  "--input-format",
  "stream-json",
];
const encoder = new TextEncoder();

type Line = Record<string, unknown>;

/** The fake as a child process with line-level access to stdout. */
function spawnFake(
  args: string[] = STREAM_ARGS,
  options: { cwd?: string; stdout?: "piped" | "null" } = {},
) {
  const child = new Deno.Command(FAKE_CLAUDE_BIN, {
    args,
    cwd: options.cwd,
    stdin: "piped",
    stdout: options.stdout ?? "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines: string[] = [];
  const wakers = new Set<() => void>();
  let done = false;
  let bytes = 0;
  const stdout = options.stdout === "null" ? Promise.resolve() : (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of child.stdout) {
      bytes += chunk.length;
      const text = decoder.decode(chunk, { stream: true });
      if (!text.includes("\n")) {
        buffer += text; // only the new chunk is scanned: no quadratic rescans
        continue;
      }
      const parts = (buffer + text).split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
      for (const w of [...wakers]) w();
    }
    buffer += decoder.decode();
    if (buffer) lines.push(buffer);
    done = true;
    for (const w of [...wakers]) w();
  })();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    lines,
    get bytes() {
      return bytes;
    },
    parsed: () => lines.map((l) => JSON.parse(l) as Line),
    send: (text: string) => writer.write(encoder.encode(userLine(text))),
    write: (raw: string) => writer.write(encoder.encode(raw)),
    close: () => writer.close().catch(() => {}),
    /** Resolves once a line matches (or rejects when stdout closes / after timeoutMs). */
    waitFor(predicate: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
      return new Promise((resolve, reject) => {
        let i = 0;
        const check = () => {
          for (; i < lines.length; i++) {
            if (predicate(lines[i]!)) return finish(() => resolve(lines[i]!));
          }
          if (done) finish(() => reject(new Error(`stdout closed; lines: ${lines.join("\n")}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timeout; lines: ${lines.slice(-3).join("\n")}`))),
          timeoutMs,
        );
        const finish = (f: () => void) => {
          clearTimeout(timer);
          wakers.delete(check);
          f();
        };
        wakers.add(check);
        check();
      });
    },
    async end() {
      await writer.close().catch(() => {});
      const status = await child.status;
      await stdout;
      return { status, stderr: await stderr };
    },
  };
}

const isResult = (l: string) => l.includes('"type":"result"');

async function runScenario(steps: FakeStep[], args = STREAM_ARGS) {
  const fake = spawnFake(args);
  await fake.send(fakePrompt(steps));
  const { status, stderr } = await fake.end();
  return { lines: fake.lines, status, stderr };
}

Deno.test("fake claude prints the version and exits 0", async () => {
  const out = await new Deno.Command(FAKE_CLAUDE_BIN, { args: ["--version"] }).output();
  assert.equal(out.code, 0);
  assert.equal(new TextDecoder().decode(out.stdout), `${TESTED_CLAUDE_VERSION} (Claude Code)\n`);
});

Deno.test("fake claude auth status reports api_key credentials", async () => {
  const out = await new Deno.Command(FAKE_CLAUDE_BIN, {
    args: ["auth", "status"],
    env: { ANTHROPIC_API_KEY: "sk-x" },
  }).output();
  assert.equal(out.code, 0);
  const status = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(status.loggedIn, true);
  assert.equal(status.authMethod, "api_key");
});

Deno.test("fake claude default turn: silent until stdin, then init, echo, result; exit 0", async () => {
  const dir = await Deno.makeTempDir();
  const fake = spawnFake([...STREAM_ARGS, "--model", "claude-haiku-4-5"], { cwd: dir });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fake.bytes, 0, "nothing before the first stdin line");
  await fake.send("hello fake");
  await fake.waitFor(isResult);
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  const [init, assistant, result, ...rest] = fake.parsed();
  assert.equal(rest.length, 0);
  assert.equal(init!.type, "system");
  assert.equal(init!.subtype, "init");
  assert.equal(init!.cwd, await Deno.realPath(dir));
  assert.equal(init!.model, "claude-haiku-4-5");
  const sid = init!.session_id as string;
  assert.match(sid, /^[0-9a-f-]{36}$/);
  assert.equal(assistant!.type, "assistant");
  const message = assistant!.message as Line;
  assert.deepEqual(message.content, [{ type: "text", text: "hello fake" }]);
  assert.equal((message.usage as Line).input_tokens, 12);
  assert.equal(result!.type, "result");
  assert.equal(result!.subtype, "success");
  assert.equal(result!.is_error, false);
  assert.equal(result!.num_turns, 1);
  assert.equal(result!.result, "hello fake");
  assert.equal(result!.session_id, sid);
  assert.equal(result!.total_cost_usd, 0.000042);
  assert.deepEqual(result!.usage, {
    input_tokens: 12,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 6,
  });
  assert.notEqual(Object.keys(result!)[0], "type", "type is not the first key (like the real CLI)");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fake claude follow-up turns keep the --resume session id and accumulate cost", async () => {
  const fake = spawnFake([...STREAM_ARGS, "--resume", "11111111-2222-3333-4444-555555555555"]);
  await fake.send("one");
  await fake.waitFor(isResult);
  await fake.send("two");
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  const results = fake.parsed().filter((l) => l.type === "result");
  assert.equal(results.length, 2);
  for (const l of fake.parsed()) {
    if (l.session_id !== undefined) {
      assert.equal(l.session_id, "11111111-2222-3333-4444-555555555555");
    }
  }
  assert.deepEqual(results.map((r) => r.result), ["one", "two"]);
  assert.deepEqual(results.map((r) => r.result_index), [0, 1]);
  assert.ok(Math.abs((results[1]!.total_cost_usd as number) - 0.000084) < 1e-12);
  const ids = fake.parsed().filter((l) => l.type === "assistant").map((l) =>
    (l.message as Line).id
  );
  assert.equal(new Set(ids).size, 2, "message ids are unique");
});

Deno.test("fake claude writes 20k numbered lines of exactly B bytes in batched writes", async () => {
  const fake = spawnFake();
  await fake.send(fakePrompt({ auto: true, steps: [{ lines: 20_000, bytes: 600 }] }));
  await fake.waitFor((l) => l.includes('"type":"system"'));
  const start = performance.now();
  await fake.waitFor(isResult);
  const elapsed = performance.now() - start;
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  // Batched ~1 MiB writes take well under a second on a quiet machine (the ingest bench's figure);
  // a line-per-write regression takes tens of seconds, which this bound still catches under load.
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  const body = fake.lines.slice(1, -1);
  assert.equal(body.length, 20_000);
  body.forEach((line, i) => {
    assert.equal(line.length, 600);
    if (i % 997 === 0 || i === 19_999) assert.equal(JSON.parse(line).index, i);
  });
});

Deno.test("fake claude repeat substitutes the index and session id", async () => {
  const { lines } = await runScenario([
    { init: true },
    { repeat: 3, line: { type: "x", i: "{{i}}", sid: "{{session_id}}" } },
  ]);
  const sid = JSON.parse(lines[0]!).session_id;
  assert.deepEqual(
    lines.slice(1).map((l) => JSON.parse(l)),
    [0, 1, 2].map((i) => ({
      type: "x",
      i: String(i),
      sid,
    })),
  );
});

Deno.test("fake claude bigLine is one valid JSON line of exactly B bytes", async () => {
  const size = 32 * 1024 * 1024;
  const { lines, status } = await runScenario([{ bigLine: size }, { bigLine: 5 }]);
  assert.equal(status.code, 0);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.length, size);
  assert.equal(JSON.parse(lines[0]!).type, "assistant");
  assert.equal(lines[1], "11111");
});

Deno.test("fake claude raw and noNewlineBytes write bytes as-is", async () => {
  const fake = spawnFake(STREAM_ARGS);
  await fake.send(fakePrompt([
    { raw: btoa("a\r\nb") },
    { noNewlineBytes: 100_000 },
    { line: "tail" },
  ]));
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  assert.deepEqual(fake.lines.map((l) => l.length), [2, 100_001 + 4]);
  assert.equal(fake.lines[0], "a\r");
  assert.ok(fake.lines[1]!.startsWith("b" + "a".repeat(100_000)));
  assert.ok(fake.lines[1]!.endsWith("tail"));
});

Deno.test("fake claude record writes argv, env, cwd and stdin lines", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/record.json`;
  const child = new Deno.Command(FAKE_CLAUDE_BIN, {
    args: [...STREAM_ARGS, "--model", "opus", "--mcp-config", "{}"],
    cwd: dir,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH")!, HERO_ORCHESTRATOR_AGENT: "a1.m1" },
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const prompt = fakePrompt([{ record: path }]);
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(userLine(prompt)));
  await writer.close();
  assert.equal((await child.status).code, 0);
  const rec = JSON.parse(await Deno.readTextFile(path));
  assert.deepEqual(rec.argv, [...STREAM_ARGS, "--model", "opus", "--mcp-config", "{}"]);
  assert.equal(rec.env.HERO_ORCHESTRATOR_AGENT, "a1.m1");
  assert.equal(rec.env.HOME, undefined);
  assert.equal(rec.cwd, await Deno.realPath(dir));
  assert.equal(typeof rec.pid, "number");
  assert.equal(JSON.parse(rec.stdinLines[0]).message.content[0].text, prompt);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fake claude exit codes: exit step, error result, scenario exitCode", async () => {
  assert.equal((await runScenario([{ init: true }, { exit: 7 }])).status.code, 7);
  const failed = await runScenario([{ apiError: 500 }]);
  assert.equal(failed.status.code, 1);
  const result = JSON.parse(failed.lines.at(-1)!);
  assert.equal(result.subtype, "success");
  assert.equal(result.is_error, true);
  assert.equal(result.api_error_status, 500);
  assert.equal(JSON.parse(failed.lines[0]!).is_api_error_message, true);
  const override = await runScenario([{ result: {} }]);
  assert.equal(override.status.code, 0);
  const fake = spawnFake();
  await fake.send(fakePrompt({ steps: [{ result: {} }], exitCode: 3 }));
  assert.equal((await fake.end()).status.code, 3);
});

Deno.test("fake claude exits 1 on a non-JSON stdin line", async () => {
  const fake = spawnFake();
  await fake.write("not json\n");
  const { status, stderr } = await fake.end();
  assert.equal(status.code, 1);
  assert.match(stderr, /Error parsing streaming input line \(type=unknown, 8 chars\): SyntaxError/);
  assert.equal(fake.lines.length, 0);
});

Deno.test("fake claude SIGTERM exits 143 without a result", async () => {
  const fake = spawnFake();
  await fake.send(fakePrompt([{ init: true }, { hang: true }]));
  await fake.waitFor((l) => l.includes('"init"'));
  fake.child.kill("SIGTERM");
  const { status } = await fake.end();
  assert.equal(status.code, 143);
  assert.equal(fake.lines.length, 1);
});

Deno.test("fake claude ignoreSigterm survives SIGTERM until SIGKILL", async () => {
  const fake = spawnFake();
  await fake.send(fakePrompt([{ ignoreSigterm: true }, { init: true }, { hang: true }]));
  await fake.waitFor((l) => l.includes('"init"'));
  fake.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 200));
  fake.child.kill("SIGKILL");
  const { status } = await fake.end();
  assert.equal(status.signal, "SIGKILL");
});

Deno.test("fake claude SIGINT mid-turn emits error_during_execution then exits 0", async () => {
  const fake = spawnFake();
  await fake.send(fakePrompt([{ init: true }, { hang: true }]));
  await fake.waitFor((l) => l.includes('"init"'));
  fake.child.kill("SIGINT");
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  const result = fake.parsed().at(-1)!;
  assert.equal(result.type, "result");
  assert.equal(result.subtype, "error_during_execution");
  assert.equal(result.is_error, true);
});

Deno.test("fake claude interrupt control request ends a hanging turn", async () => {
  const fake = spawnFake();
  await fake.send(fakePrompt([{ init: true }, { sleep: 60_000 }, { text: "never" }]));
  await fake.waitFor((l) => l.includes('"init"'));
  await fake.write(
    JSON.stringify({
      type: "control_request",
      request_id: "r1",
      request: { subtype: "interrupt" },
    }) +
      "\n",
  );
  await fake.waitFor(isResult);
  await fake.send("after");
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  const parsed = fake.parsed();
  const response = parsed.find((l) => l.type === "control_response")!;
  assert.deepEqual(response.response, {
    subtype: "success",
    request_id: "r1",
    response: { still_queued: [] },
  });
  const results = parsed.filter((l) => l.type === "result");
  assert.deepEqual(results.map((r) => r.subtype), ["error_during_execution", "success"]);
  assert.equal(results[1]!.result, "after");
});

Deno.test("fake claude hang survives stdin close; rateLimitRejected hangs silently", async () => {
  for (const steps of [[{ hang: true }], [{ rateLimitRejected: { resetsAt: 1795612807 } }]]) {
    const fake = spawnFake();
    await fake.send(fakePrompt(steps as FakeStep[]));
    await fake.close();
    const exited = await Promise.race([
      fake.child.status.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 500)),
    ]);
    assert.equal(exited, false);
    fake.child.kill("SIGKILL");
    await fake.end();
    if ("rateLimitRejected" in steps[0]!) {
      const [event] = fake.parsed();
      assert.equal(event!.type, "rate_limit_event");
      assert.equal((event!.rate_limit_info as Line).status, "rejected");
      assert.equal((event!.rate_limit_info as Line).resetsAt, 1795612807);
    }
  }
});

Deno.test("fake claude writes big stderr while stdout is not read", async () => {
  const fake = spawnFake(STREAM_ARGS);
  await fake.send(fakePrompt([{ stderr: 20 * 1024 * 1024 }, { result: {} }]));
  const { status, stderr } = await fake.end();
  assert.equal(status.code, 0);
  assert.equal(stderr.length, 20 * 1024 * 1024);
  assert.match(stderr, /^fake stderr line 00000000 /);
});

Deno.test("fake claude spawn with newSession puts the grandchild in its own session", async () => {
  const dir = await Deno.makeTempDir();
  const { status } = await runScenario([
    { spawn: "sleep 30", newSession: true, pidFile: `${dir}/pid` },
    { spawnWait: `echo waited > ${dir}/waited` },
  ]);
  assert.equal(status.code, 0);
  const pid = Number(await Deno.readTextFile(`${dir}/pid`));
  const ps = await new Deno.Command("ps", { args: ["-o", "pid=,pgid=,sid=", "-p", String(pid)] })
    .output();
  const [p, pgid, sid] = new TextDecoder().decode(ps.stdout).trim().split(/\s+/).map(Number);
  assert.equal(p, pid, "grandchild outlives the fake");
  assert.equal(pgid, pid);
  assert.equal(sid, pid);
  Deno.kill(-pid, "SIGKILL"); // the whole group: sh may have forked sleep
  assert.equal(await Deno.readTextFile(`${dir}/waited`), "waited\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fake claude reports an invalid scenario as an error result", async () => {
  const fake = spawnFake();
  await fake.send("FAKE:{not json");
  const { status, stderr } = await fake.end();
  assert.equal(status.code, 1);
  assert.match(stderr, /Cannot parse scenario/);
  assert.equal(fake.parsed().at(-1)!.is_error, true);
});

Deno.test("fake claude answers initialize and queues uuid turns with lifecycle frames", async () => {
  const fake = spawnFake();
  await fake.write(
    JSON.stringify({
      type: "control_request",
      request_id: "i1",
      request: { subtype: "initialize" },
    }) +
      "\n",
  );
  await fake.write(userLine("x", { uuid: "u-1" }));
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  const parsed = fake.parsed();
  const init = parsed.find((l) => l.type === "control_response")!.response as Line;
  assert.equal(init.request_id, "i1");
  assert.equal((init.response as Line).claude_code_version, TESTED_CLAUDE_VERSION);
  assert.deepEqual(
    parsed.filter((l) => l.type === "command_lifecycle").map((l) => l.state),
    ["queued", "started", "completed"],
  );
});

Deno.test("fake claude --replay-user-messages echoes each prompt right after its init", async () => {
  const fake = spawnFake([...STREAM_ARGS, "--replay-user-messages"]);
  await fake.send("first");
  await fake.waitFor(isResult);
  // String content and a uuid come back as sent, like 2.1.328 does.
  await fake.write(
    JSON.stringify({ type: "user", uuid: "u-2", message: { role: "user", content: "second" } }) +
      "\n",
  );
  await fake.waitFor((l) => isResult(l) && l.includes('"result_index":1'));
  const scenario = fakePrompt({ auto: true, steps: [{ text: "third answer" }] });
  await fake.send(scenario);
  const { status } = await fake.end();
  assert.equal(status.code, 0);
  const parsed = fake.parsed().filter((l) => l.type !== "command_lifecycle");
  assert.deepEqual(parsed.map((l) => `${l.type}${l.isReplay ? " replay" : ""}`), [
    "system",
    "user replay",
    "assistant",
    "result",
    "system",
    "user replay",
    "assistant",
    "result",
    "system",
    "user replay",
    "assistant",
    "result",
  ]);
  const [first, second, third] = parsed.filter((l) => l.isReplay === true);
  const sid = parsed[0]!.session_id;
  assert.deepEqual(first!.message, {
    role: "user",
    content: [{ type: "text", text: "first" }],
  });
  assert.equal(first!.session_id, sid);
  assert.equal(first!.parent_tool_use_id, null);
  assert.match(first!.uuid as string, /^[0-9a-f-]{36}$/);
  assert.equal(typeof first!.timestamp, "string");
  assert.deepEqual(second!.message, { role: "user", content: "second" });
  assert.equal(second!.uuid, "u-2");
  assert.deepEqual((third!.message as Line).content, [{ type: "text", text: scenario }]);
});

Deno.test("fake claude replay: after a scenario's init step, none without init or flag", async () => {
  const withInit = await runScenario(
    [{ text: "before init" }, { init: true }, { init: true }, { text: "x" }, { result: {} }],
    [...STREAM_ARGS, "--replay-user-messages"],
  );
  assert.deepEqual(
    withInit.lines.map((l) => JSON.parse(l)).map((l) => `${l.type}${l.isReplay ? " replay" : ""}`),
    ["assistant", "system", "user replay", "system", "assistant", "result"],
  );
  const noInit = await runScenario([{ text: "x" }, { result: {} }], [
    ...STREAM_ARGS,
    "--replay-user-messages",
  ]);
  assert.deepEqual(noInit.lines.map((l) => JSON.parse(l).type), ["assistant", "result"]);
  const noFlag = await runScenario([{ init: true }, { text: "x" }, { result: {} }]);
  assert.deepEqual(noFlag.lines.map((l) => JSON.parse(l).type), ["system", "assistant", "result"]);
});
