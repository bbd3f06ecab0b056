/**
 * Bounded request-body reading, shared by every listener that buffers a body (rpc.sock, the
 * admin's RPC pass-through, the quota proxy) before parsing or forwarding it.
 * @module
 */

/**
 * Reads a request body of at most `maxBytes`; null as soon as `content-length` or the bytes
 * actually received exceed the limit. The rest is never read or buffered: the body is cancelled.
 */
export async function readBodyLimited(
  req: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = req.headers.get("content-length");
  if (declared !== null && (!/^\d{1,16}$/.test(declared.trim()) || Number(declared) > maxBytes)) {
    await req.body?.cancel().catch(() => {});
    return null;
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
