/**
 * A minimal claude look-alike for latency benchmarks (the scenario-driven fake in core/testing has
 * no clock in its lines). Run through the `sh` wrapper from {@linkcode writeStampClaude}.
 *
 * Waits for the first stream-json user message on stdin; its text is JSON `{"lines": N,
 * "intervalMs": I, "bytes": B}`. Then prints `system/init`, N `assistant` lines I ms apart (on a
 * fixed schedule, not drifting), each padded to about B bytes and carrying `"sent_at"`: the epoch
 * time in ms (µs precision) taken just before the write; then a `result` line. Exits 0 when stdin
 * closes, 143 on SIGTERM. Imports nothing, so it starts as fast as deno does.
 * @module
 */

const encoder = new TextEncoder();

interface Config {
  lines: number;
  intervalMs: number;
  bytes: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

async function write(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
}

async function firstPrompt(): Promise<
  { text: string; rest: ReadableStreamDefaultReader<Uint8Array> }
> {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) Deno.exit(0);
    buf += decoder.decode(value, { stream: true });
    const nl = buf.indexOf("\n");
    if (nl < 0) continue;
    const msg = JSON.parse(buf.slice(0, nl));
    const content = msg?.message?.content;
    const text = typeof content === "string"
      ? content
      : Array.isArray(content)
      ? content.map((b: { text?: string }) => b.text ?? "").join("\n")
      : "";
    return { text, rest: reader };
  }
}

async function main(): Promise<void> {
  Deno.addSignalListener("SIGTERM", () => Deno.exit(143));
  const { text, rest } = await firstPrompt();
  let config: Config = { lines: 10, intervalMs: 100, bytes: 500 };
  try {
    config = { ...config, ...JSON.parse(text) };
  } catch {
    // default config
  }
  const session = crypto.randomUUID();
  // Exit once stdin closes (the supervisor closes it after the result line).
  (async () => {
    for (;;) {
      const { done } = await rest.read();
      if (done) Deno.exit(0);
    }
  })();
  await write(
    JSON.stringify({
      type: "system",
      subtype: "init",
      cwd: Deno.cwd(),
      session_id: session,
      tools: [],
      model: "claude-sonnet-4-6",
      permissionMode: "bypassPermissions",
      uuid: crypto.randomUUID(),
    }) + "\n",
  );
  const pad = "x".repeat(Math.max(0, config.bytes - 330));
  const start = performance.now();
  for (let i = 0; i < config.lines; i++) {
    const due = start + (i + 1) * config.intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await write(
      `{"type":"assistant","message":{"id":"msg_stamp_${i}","type":"message","role":"assistant","content":[{"type":"text","text":"${pad}"}],"usage":{"input_tokens":1,"output_tokens":1}},"parent_tool_use_id":null,"session_id":"${session}","index":${i},"sent_at":${
        now().toFixed(3)
      }}\n`,
    );
  }
  await write(
    JSON.stringify({
      type: "result",
      subtype: "success",
      is_error: false,
      duration_ms: Math.round(performance.now() - start),
      num_turns: 1,
      result: "done",
      session_id: session,
      total_cost_usd: 0,
      usage: { input_tokens: 1, output_tokens: 1 },
    }) + "\n",
  );
  // Wait for stdin to close (handled above).
  await new Promise(() => {});
}

/** Writes an executable `sh` wrapper running this file with the deno on PATH; returns its path. */
export async function writeStampClaude(dir: string): Promise<string> {
  const script = decodeURIComponent(new URL(import.meta.url).pathname);
  const path = `${dir}/stamp_claude`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nexec deno run -A -q --no-config --no-lock '${script}' "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/** Extracts `"sent_at":<ms>` from a stamped line; NaN when absent. */
export function sentAt(line: string): number {
  const i = line.lastIndexOf('"sent_at":');
  return i < 0 ? NaN : parseFloat(line.slice(i + 10));
}

if (import.meta.main) await main();
