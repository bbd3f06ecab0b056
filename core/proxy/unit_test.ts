/** Tokens, the credential source and the usage tap (usage reports and the poll: core/usage). */
import assert from "node:assert/strict";
import { proxyFixture } from "./_testing.ts";
import { CredentialSource } from "./credential.ts";
import { tapBody, type TapSummary, usageTap } from "./tap.ts";
import { hashProxyToken, mintProxyToken, TOKEN_PATTERN, verifyProxyToken } from "./token.ts";

Deno.test("tokens: 256 random bits, hop_ prefix, only the SHA-256 is kept", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const { token, hash } = mintProxyToken();
    assert.match(token, TOKEN_PATTERN);
    assert.equal(Buffer.from(token.slice(4), "base64url").length, 32);
    assert.equal(hash, hashProxyToken(token).toString("hex"));
    assert.match(hash, /^[0-9a-f]{64}$/);
    seen.add(token);
  }
  assert.equal(seen.size, 1000);
});

Deno.test("verifyProxyToken(): unknown, revoked, expired, terminal and other-agent tokens fail", async () => {
  await using fx = await proxyFixture();
  const a = fx.agent();
  const b = fx.agent();
  assert.equal(verifyProxyToken(fx.store, a.token, a.id).ok, true);
  assert.equal(verifyProxyToken(fx.store, a.token, null).ok, true);
  const reason = (token: string | null, claimed: string | null, now?: number) => {
    const r = verifyProxyToken(fx.store, token, claimed, now);
    return r.ok ? "ok" : r.reason;
  };
  assert.equal(reason(a.token, b.id), "other_agent");
  assert.equal(reason(null, null), "missing");
  assert.equal(reason("hop_short", null), "malformed");
  assert.equal(reason(`hop_${"A".repeat(43)}`, null), "unknown");
  assert.equal(reason(a.token, null, Date.now() + 120_000), "expired");
  fx.store.revokeProxyTokens(b.id);
  assert.equal(reason(b.token, null), "revoked");
  const c = fx.agent();
  fx.store.transitionMany([c.id], "failed", {});
  assert.equal(
    reason(c.token, null),
    "revoked",
    "a terminal transition revokes in its transaction",
  );
});

Deno.test("CredentialSource: the CLI's precedence; the file is re-read when it changes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(
      new CredentialSource({ ANTHROPIC_AUTH_TOKEN: "b", ANTHROPIC_API_KEY: "k" }).get()!.kind,
      "bearer",
    );
    assert.equal(new CredentialSource({ ANTHROPIC_API_KEY: "k" }).get()!.kind, "api_key");
    const none = new CredentialSource({ CLAUDE_CONFIG_DIR: dir });
    assert.equal(none.get(), null);
    assert.match(none.info().detail!, /\.credentials\.json/);
    const file = `${dir}/.credentials.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ claudeAiOauth: { accessToken: "t1", expiresAt: 5 } }),
    );
    const source = new CredentialSource({ CLAUDE_CONFIG_DIR: dir, ANTHROPIC_API_KEY: "k" });
    assert.equal(source.get()!.kind, "api_key");
    assert.deepEqual(source.oauth(), { kind: "oauth", value: "t1", source: file, expiresAt: 5 });
    await new Promise((r) => setTimeout(r, 20));
    await Deno.writeTextFile(file, JSON.stringify({ claudeAiOauth: { accessToken: "t2" } }));
    Deno.utimeSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(source.oauth()!.value, "t2");
    assert.ok(!JSON.stringify(source.info()).includes("t2"), "info() never carries the secret");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The body through both forms of the tap (TransformStream and body wrapper); they must agree. */
async function run(
  chunks: string[],
  sse: boolean,
  headBytes = 0,
): Promise<{ out: string; summary: TapSummary }> {
  const encoder = new TextEncoder();
  const source = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(encoder.encode(chunk));
        c.close();
      },
    });
  const results = [];
  for (const form of ["usageTap", "tapBody"] as const) {
    let summary: TapSummary | undefined;
    const options = { sse, headBytes, onEnd: (s: TapSummary) => (summary = s) };
    const body = form === "usageTap"
      ? source().pipeThrough(usageTap(options))
      : tapBody(source(), options);
    const out = await new Response(body).text();
    results.push({ out, summary: summary! });
  }
  assert.deepEqual(results[1], results[0], "tapBody and usageTap agree");
  return results[0]!;
}

Deno.test("usageTap(): bytes pass unchanged; usage from message_start/message_delta across chunk cuts", async () => {
  const events = [
    `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":4,"cache_creation_input_tokens":2,"output_tokens":1}}}\n\n`,
    `event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"message_delta usage output_tokens 999"}}\n\n`,
    `event: message_delta\r\ndata: {"type":"message_delta","usage":{"output_tokens":30}}\r\n\r\n`,
    `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
  ];
  const whole = events.join("");
  // Every cut (lines are told apart by their first bytes, which a cut can split), and bytes one by one.
  const cuts = [...Array.from({ length: whole.length - 1 }, (_, i) => [i + 1]), [-1]];
  for (const [cut] of cuts) {
    const chunks = cut! < 0 ? [...whole] : [whole.slice(0, cut), whole.slice(cut)];
    const { out, summary } = await run(chunks, true);
    assert.equal(out, whole);
    assert.deepEqual(
      [
        summary.input_tokens,
        summary.output_tokens,
        summary.cache_read_tokens,
        summary.cache_creation_tokens,
        summary.bytes,
      ],
      [10, 30, 4, 2, new TextEncoder().encode(whole).length],
      `cut at ${cut}`,
    );
  }
  // Events without `event:` lines are told apart by their data.
  const unnamed = events.map((e) => e.replace(/^event: [a-z_]+\r?\n/, "")).join("");
  const bare = await run([unnamed.slice(0, 100), unnamed.slice(100)], true);
  assert.deepEqual([bare.summary.input_tokens, bare.summary.output_tokens], [10, 30]);
  // A JSON message (max_tokens:1 check) is counted too; an error body's head is kept.
  const json = await run(
    [`{"type":"message","usage":{"input_tokens":3,"output_tokens":1}}`],
    false,
  );
  assert.deepEqual([json.summary.input_tokens, json.summary.output_tokens], [3, 1]);
  const error = await run(["x".repeat(600), "y"], false, 512);
  assert.equal(error.summary.head, "x".repeat(512));
  // An oversized line is skipped without buffering it, and parsing resumes after it.
  const big = await run([`data: ${"z".repeat(3 * 1024 * 1024)}\n`, events[0]!], true);
  assert.equal(big.summary.input_tokens, 10);
});
