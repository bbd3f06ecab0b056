import assert from "node:assert/strict";
import { openStore } from "./mod.ts";
import { connectionOf } from "./_connection.ts";
import { sampleAgent, tempDbPath } from "./_testing.ts";
import { soakFigure } from "../testing/soak.ts";

const SCRIPT = new URL("./testdata/crash_writer.ts", import.meta.url).pathname;
/** Reliability target T18: 1,000 kills in `deno task soak`. */
const ROUNDS = soakFigure(10, 1_000);

interface Ack {
  agent: string;
  seq: number;
  eventId: number;
}

/** Runs the writer child, SIGKILLs it `killAfterMs` after it is ready, returns what it acknowledged. */
async function runAndKill(path: string, ids: string[], killAfterMs: number): Promise<Ack[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, path, ids.join(",")],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const acks: Ack[] = [];
  let buffered = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!; // a line cut by the kill is not an acknowledgement
    for (const text of lines) {
      if (text === "READY") {
        timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        continue;
      }
      const [tag, agent, seq, eventId] = text.split(" ");
      assert.equal(tag, "ACK", `unexpected output: ${text}`);
      acks.push({ agent: agent!, seq: Number(seq), eventId: Number(eventId) });
    }
  }
  const status = await child.status;
  clearTimeout(timer);
  assert.equal(status.signal, "SIGKILL", `writer exited on its own: ${await stderr}`);
  await stderr;
  return acks;
}

Deno.test(`no acknowledged line is lost when the writer is SIGKILLed mid-write (${ROUNDS} rounds)`, async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const setup = openStore(path);
    const ids = Array.from({ length: 5 }, () => setup.insertAgent(sampleAgent()).id);
    setup.close();
    let totalAcks = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const killAfterMs = 300 + Math.floor(Math.random() * 700);
      const acks = await runAndKill(path, ids, killAfterMs);
      assert.ok(acks.length > 0, `round ${round}: nothing acknowledged in ${killAfterMs} ms`);
      totalAcks += acks.length;

      const store = openStore(path);
      try {
        assert.equal(store.integrityCheck(), "ok", `round ${round}`);
        const db = connectionOf(store).db;
        const message = db.prepare(
          "SELECT 1 AS found FROM messages JOIN agents USING (agent_key) WHERE id = ? AND seq = ?",
        );
        const event = db.prepare(
          "SELECT e.kind, a.id AS agent, e.seq FROM events e JOIN agents a USING (agent_key) WHERE e.id = ?",
        );
        for (const ack of acks) {
          const where = `round ${round}: acknowledged line ${ack.agent}/${ack.seq}`;
          assert.ok(message.get(ack.agent, ack.seq), `${where} is missing`);
          assert.deepEqual({ ...event.get(ack.eventId) }, {
            kind: "message",
            agent: ack.agent,
            seq: ack.seq,
          }, `${where}: event ${ack.eventId}`);
        }
        for (const id of ids) {
          // Contiguous 1..last_seq: nothing half-written survives a kill.
          const { last_seq } = store.getAgent(id)!;
          assert.equal(store.countMessages(id), last_seq);
          if (last_seq > 0) assert.ok(store.readMessageBytes(id, last_seq));
          assert.equal(store.readMessageBytes(id, last_seq + 1), undefined);
        }
      } finally {
        store.close();
      }
    }
    console.log(`crash test: ${ROUNDS} kills, ${totalAcks} acknowledged lines, 0 lost`);
  } finally {
    await cleanup();
  }
});
