import assert from "node:assert/strict";
import { readBodyLimited } from "./body.ts";

const enc = new TextEncoder();

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
  assert.equal(await readBodyLimited(req, 1024 * 1024), null);
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
  assert.equal(await readBodyLimited(req, 1024 * 1024), null);
  assert.ok(sent <= 1024 * 1024 + 3 * 64 * 1024, `pulled ${sent} bytes`);
  const ok = await readBodyLimited(new Request("http://x", { method: "POST", body: "abc" }), 10);
  assert.deepEqual(ok, enc.encode("abc"));
  assert.equal(
    await readBodyLimited(new Request("http://x", { method: "POST", body: "abcd" }), 3),
    null,
  );
});
