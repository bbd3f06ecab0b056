import assert from "node:assert/strict";
import { exceedsDepth, readBodyLimited } from "./body.ts";

const enc = new TextEncoder();

Deno.test("exceedsDepth() counts object and array nesting outside strings", () => {
  const deep = (n: number) => enc.encode("[".repeat(n) + "]".repeat(n));
  assert.equal(exceedsDepth(deep(32), 32), false);
  assert.equal(exceedsDepth(deep(33), 32), true);
  assert.equal(
    exceedsDepth(enc.encode(`{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}`), 2),
    false,
  );
  assert.equal(exceedsDepth(enc.encode(`{"a\\"[[[":[[1]]}`), 2), true);
  assert.equal(exceedsDepth(enc.encode(`{"a\\\\":[[1]]}`), 3), false);
  // 10^5 levels are answered by the scan without recursion.
  assert.equal(exceedsDepth(deep(100_000), 32), true);
});

Deno.test("readBodyLimited() refuses by content-length without reading the body", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(1024));
    },
  });
  const req = new Request("http://x/rpc", {
    method: "POST",
    body,
    headers: { "content-length": String(2 * 1024 * 1024) },
  });
  assert.equal(await readBodyLimited(req, 1024 * 1024), "too_large");
  assert.ok(pulled <= 1, `read ${pulled} chunks`);
});

Deno.test("readBodyLimited() stops a streamed body at the limit", async () => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      sent += 64 * 1024;
      c.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const req = new Request("http://x/rpc", { method: "POST", body });
  assert.equal(await readBodyLimited(req, 1024 * 1024), "too_large");
  assert.ok(sent <= 1024 * 1024 + 3 * 64 * 1024, `pulled ${sent} bytes`);
  const ok = await readBodyLimited(new Request("http://x", { method: "POST", body: "abc" }), 10);
  assert.deepEqual(ok, enc.encode("abc"));
  assert.equal(
    await readBodyLimited(new Request("http://x", { method: "POST", body: "abcd" }), 3),
    "too_large",
  );
});
