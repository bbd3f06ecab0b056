import assert from "node:assert/strict";
import { newId } from "../models/mod.ts";
import { MessageWriter, openStore } from "../store/mod.ts";
import { EventBus } from "./bus.ts";
import { CommitSequencer } from "./from_store.ts";

Deno.test("CommitSequencer: with the writer committing in its thread and the store on the event loop, the bus sees every committed event once, in id order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_events_" });
  const bus = new EventBus();
  const seen: number[] = [];
  bus.subscribe((event) => seen.push(event.id));
  const sequencer = new CommitSequencer(bus);
  const store = openStore(`${dir}/db.sqlite`, { onCommit: sequencer.changes });
  const writer = new MessageWriter(store, {
    maxDelayMs: 1,
    maxRows: 50,
    onBatch: sequencer.onBatch,
    onCommit: sequencer.batch,
  });
  try {
    const ids = Array.from({ length: 4 }, () =>
      store.insertAgent({
        id: newId(),
        prompt: "p",
        cwd: dir,
        model: "claude-sonnet-4-6",
        effort: "low",
        kind: "standard",
      }).id);
    const appends: Array<Promise<unknown>> = [];
    // The store's own writes land while batches are out in the worker.
    for (let round = 0; round < 200; round++) {
      for (const id of ids) appends.push(writer.append(lineOf(id, round)));
      store.updateAgent(ids[round % ids.length]!, { name: `round ${round}` });
      if (round % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(appends);
    await writer.close();
    const stored = store.readEvents(0, 1000).map((e) => e.id);
    stored.push(...store.readEvents(stored.at(-1)!, 1000).map((e) => e.id));
    assert.equal(stored.length, 4 + 800 + 200);
    assert.deepEqual(seen, stored, "every committed event published once, in id order");
  } finally {
    await writer.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function lineOf(agentId: string, n: number) {
  return {
    agentId,
    bytes: new TextEncoder().encode(JSON.stringify({ type: "assistant", n })),
    ts: Date.now(),
    type: "assistant",
    subtype: null,
    parseError: false,
    eofNoNewline: false,
  };
}
