import assert from "node:assert/strict";
import { escapeControl } from "./log.ts";

const LOG_URL = new URL("./log.ts", import.meta.url).href;

/** Runs `createLogger(options)` in a child, logs one record per level, returns its stderr lines. */
async function childLines(options: Record<string, unknown>, fields?: unknown): Promise<string[]> {
  const code = `import { createLogger } from ${JSON.stringify(LOG_URL)};
const log = createLogger(${JSON.stringify(options)});
for (const level of ["debug", "info", "warn", "error"]) log(level, "m-" + level, ${
    JSON.stringify(fields ?? {})
  });`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(out.stdout.length, 0, "nothing on stdout");
  return new TextDecoder().decode(out.stderr).split("\n").filter((l) => l !== "");
}

Deno.test("createLogger(): JSON lines on stderr at or above the level; info when none is given", async () => {
  const levels = async (options: Record<string, unknown>) =>
    (await childLines(options)).map((l) => JSON.parse(l).level);
  assert.deepEqual(await levels({}), ["info", "warn", "error"]);
  assert.deepEqual(await levels({ level: "" }), ["info", "warn", "error"]);
  assert.deepEqual(await levels({ level: "warn" }), ["warn", "error"]);
  assert.deepEqual(await levels({ level: "debug" }), ["debug", "info", "warn", "error"]);
  assert.deepEqual(await levels({ level: "nonsense" }), ["debug", "info", "warn", "error"]);
});

Deno.test("createLogger(): ts, level, service, message, then the fields; control characters escaped", async () => {
  const [line] = await childLines({ level: "error", service: "hero_orchestrator_admin" }, {
    path: "a\u2028b\u202e\u0085",
    n: 1,
  });
  assert.ok(line);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/.test(line), line);
  const record = JSON.parse(line);
  assert.deepEqual(Object.keys(record), ["ts", "level", "service", "message", "path", "n"]);
  assert.equal(record.level, "error");
  assert.equal(record.service, "hero_orchestrator_admin");
  assert.equal(record.message, "m-error");
  assert.equal(record.path, "a\u2028b\u202e\u0085", "escaping keeps the decoded text");
  assert.ok(Math.abs(Date.parse(record.ts) - Date.now()) < 60_000);
  const [plain] = await childLines({ level: "error" });
  assert.deepEqual(Object.keys(JSON.parse(plain!)), ["ts", "level", "message"]);
});

Deno.test("escapeControl(): nothing that could end or forge a log line stays raw", () => {
  const raw = 'a\nb\r{"level":"info"}\u001b[2J\u0085\u2028\u202e\u0000';
  const escaped = escapeControl(raw);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/.test(escaped));
  assert.equal(escaped, 'a\\u000ab\\u000d{"level":"info"}\\u001b[2J\\u0085\\u2028\\u202e\\u0000');
});
