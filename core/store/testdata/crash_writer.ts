// Appends lines for several agents through MessageWriter until killed, printing
// `ACK <agent> <seq> <event id>` only after each append resolved (the commit returned).
// Usage: deno run -A crash_writer.ts <db path> <agent id>,<agent id>,...
import { MessageWriter, openStore, type PendingLine } from "../mod.ts";

const [path, idList] = Deno.args;
const ids = idList!.split(",");
const store = openStore(path!);
const writer = new MessageWriter(store, { maxDelayMs: 2, maxRows: 200 });
const encoder = new TextEncoder();

function print(text: string): void {
  const bytes = encoder.encode(text);
  for (let offset = 0; offset < bytes.length;) {
    offset += Deno.stdout.writeSync(bytes.subarray(offset));
  }
}

function line(agentId: string, round: number, i: number): PendingLine {
  // Now and then a large line, so some rows spill into overflow pages and the WAL checkpoints.
  const padding = i === 7 && round % 5 === 0 ? "y".repeat(200_000) : "x".repeat(i * 10);
  return {
    agentId,
    bytes: encoder.encode(JSON.stringify({ type: "assistant", round, i, padding })),
    ts: Date.now(),
    type: "assistant",
    subtype: null,
    parseError: false,
    eofNoNewline: false,
    agentPatch: i === 0 ? { turn_count: round } : undefined,
  };
}

async function produce(agentId: string): Promise<never> {
  for (let round = 1;; round++) {
    const pending = [];
    for (let i = 0; i < 60; i++) pending.push(writer.append(line(agentId, round, i)));
    const results = await Promise.all(pending);
    print(results.map((r) => `ACK ${agentId} ${r.seq} ${r.eventId}\n`).join(""));
  }
}

await writer.ready();
print("READY\n");
await Promise.all(ids.map(produce));
