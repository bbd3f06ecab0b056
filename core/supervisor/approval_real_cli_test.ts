/**
 * The approval inbox with the real claude CLI (pinned) against the mock Anthropic API, in the
 * sandbox as in production: an agent in `default` mode asks before Write and before a writing
 * Bash; allow writes the file, deny keeps the command from running and the model receives the
 * denial as its tool result. The text the model streams reaches delta subscribers, never the store.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type MockAnthropic } from "../testing/mod.ts";
import {
  type Harness,
  waitFor,
  waitForStatus,
  withRealCliEngine,
} from "../engine/testing_harness.ts";
import type { Approval } from "../models/mod.ts";

function withRealEngine(fn: (h: Harness, mock: MockAnthropic) => Promise<void>) {
  return withRealCliEngine({ env: { HERO_ORCHESTRATOR_SANDBOX: "bwrap" } }, fn);
}

function pending(h: Harness, id: string, tool: string): Promise<Approval> {
  return waitFor(
    `a pending ${tool} approval`,
    () =>
      h.engine.store.listApprovals({ agentId: id, state: "pending" })
        .find((a) => a.tool_name === tool),
    90_000,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "real CLI approvals: allow runs Write, deny stops Bash and the model is told",
  ignore: !Deno.env.get("HERO_ORCHESTRATOR_REAL_CLAUDE"),
  async fn() {
    await withRealEngine(async (h, mock) => {
      const deltas: string[] = [];
      const stop = h.engine.bus.subscribeDeltas((d) => {
        if (d.kind === "text") deltas.push(d.text);
      });
      const a = h.engine.supervisor.create({
        prompt: "SCENARIO_TOOLS",
        cwd: h.cwd,
        model: "claude-haiku-4-5",
        permission_mode: "default",
      });
      const write = await pending(h, a.id, "Write");
      assertEquals(write.input.file_path, `${h.cwd}/hello.txt`);
      assert(write.tool_use_id?.startsWith("toolu_"));
      assertEquals(h.engine.store.getAgent(a.id)!.status, "running");
      assert(!(await exists(`${h.cwd}/hello.txt`)), "nothing is written before the answer");
      h.engine.supervisor.approvals.respond(write.id, { decision: "allow", answered_by: "test" });

      const bash = await pending(h, a.id, "Bash");
      assert(String(bash.input.command).includes("tee bash_out.txt"));
      assertEquals(await Deno.readTextFile(`${h.cwd}/hello.txt`), "hello from mock tool_use\n");
      h.engine.supervisor.approvals.respond(bash.id, {
        decision: "deny",
        message: "no bash today",
      });
      await waitForStatus(h, a.id, "awaiting_review", 90_000);
      assert(!(await exists(`${h.cwd}/bash_out.txt`)), "the denied command never ran");
      // The model received the denial as the Bash call's result.
      const results = mock.requests.flatMap((r) => {
        const body = r.body as { messages?: { content: unknown }[] } | null;
        return (body?.messages ?? []).flatMap((m) => Array.isArray(m.content) ? m.content : []);
      }).filter((b) => b?.type === "tool_result" && String(b.tool_use_id) === bash.tool_use_id);
      assert(results.length > 0, "the next request carries the Bash tool_result");
      assert(JSON.stringify(results[0]).includes("no bash today"));
      const states = h.engine.store.listApprovals({ agentId: a.id }).map((x) => x.state);
      assertEquals(states, ["denied", "allowed"]);
      // Live text came as deltas; none of them was stored.
      stop();
      assert(deltas.join("").includes("I'll write a file."), deltas.join("|"));
      const stored = h.engine.store.readMessages(a.id, 0, 1000);
      assertEquals(stored.filter((m) => m.type === "stream_event").length, 0);
    });
  },
});
