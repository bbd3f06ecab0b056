/**
 * A daemon for the kill -9 test: opens the engine from its environment, creates the agents whose
 * prompts arrive as JSON lines on stdin, and prints `ACK <agent id> <seq>` for every line only
 * after its commit (from the event bus, which publishes after commit).
 */
import { openEngine } from "../../engine/mod.ts";

const engine = await openEngine({
  env: Deno.env.toObject(),
  tune(settings) {
    settings.supervisor.maxConcurrent = 100;
    settings.supervisor.cancelGraceMs = 500;
  },
});
const out = Deno.stdout;
const encoder = new TextEncoder();
engine.bus.subscribe((event) => {
  if (event.kind === "message") {
    out.writeSync(encoder.encode(`ACK ${event.agent_id} ${event.seq}\n`));
  } else if (event.kind === "agent") {
    out.writeSync(encoder.encode(`STATUS ${event.agent.id} ${event.agent.status}\n`));
  }
});
out.writeSync(encoder.encode(`READY ${JSON.stringify(engine.recovery)}\n`));
const decoder = new TextDecoder();
let buffer = "";
for await (const chunk of Deno.stdin.readable) {
  buffer += decoder.decode(chunk, { stream: true });
  let nl;
  while ((nl = buffer.indexOf("\n")) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (!line) continue;
    const input = JSON.parse(line);
    const agent = engine.supervisor.create(input);
    out.writeSync(encoder.encode(`CREATED ${agent.id}\n`));
  }
}
await engine.close();
