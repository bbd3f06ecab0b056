import assert from "node:assert/strict";
import { exceedsDepth } from "./body.ts";

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
