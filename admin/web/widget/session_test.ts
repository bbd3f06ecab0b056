import assert from "node:assert/strict";
import { emptyState, loadState, saveState, stateKey } from "./session.ts";

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, v),
  };
}

Deno.test("saveState()/loadState() keep one state per home service", () => {
  const storage = memoryStorage();
  const books = {
    ...emptyState(),
    agentId: "0190-abc",
    draft: "d",
    open: true,
    turns: [{ afterSeq: 4, text: "more", voice: true }],
  };
  saveState(storage, "hero_books", books);
  assert.deepEqual(loadState(storage, "hero_books"), books);
  assert.deepEqual(loadState(storage, "hero_foo"), emptyState());
});

Deno.test("loadState() drops malformed values instead of failing", () => {
  const storage = memoryStorage();
  storage.setItem(stateKey("hero_x"), "{not json");
  assert.deepEqual(loadState(storage, "hero_x"), emptyState());
  storage.setItem(
    stateKey("hero_x"),
    JSON.stringify({
      agentId: "../../etc",
      open: "yes",
      turns: [{ afterSeq: -1, text: "x" }, { afterSeq: 2, text: 5 }, { afterSeq: 3, text: "ok" }],
    }),
  );
  const state = loadState(storage, "hero_x");
  assert.equal(state.agentId, null);
  assert.equal(state.open, false);
  assert.deepEqual(state.turns, [{ afterSeq: 3, text: "ok", voice: false }]);
  assert.deepEqual(loadState(null, "hero_x"), emptyState());
});
