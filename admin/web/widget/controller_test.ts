import assert from "node:assert/strict";
import { type Agent, type MessageEventData, RpcError } from "@hero/sdk";
import type { StreamHandlers } from "./api.ts";
import { type ControllerListener, WidgetController, type WidgetTransport } from "./controller.ts";
import type { Item } from "./lines.ts";
import { stateKey } from "./session.ts";

/** What the real claude CLI printed for a Write + Bash turn (see sdk/testdata/real_cli). */
const TOOLS_LINES = (await Deno.readTextFile(
  new URL("../../../sdk/testdata/real_cli/tools.jsonl", import.meta.url),
)).split("\n").filter(Boolean);

class MemoryStorage implements Storage {
  #map = new Map<string, string>();
  get length(): number {
    return this.#map.size;
  }
  clear(): void {
    this.#map.clear();
  }
  getItem(key: string): string | null {
    return this.#map.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.#map.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.#map.delete(key);
  }
  setItem(key: string, value: string): void {
    this.#map.set(key, value);
  }
}

function agentRow(id: string, prompt: string, at: number): Agent {
  const row: Agent = {
    id,
    name: null,
    prompt,
    cwd: "/srv/books",
    model: "claude-haiku-4-5",
    effort: "high",
    kind: "standard",
    status: "queued",
    parent_id: null,
    session_id: null,
    pid: null,
    pgid: null,
    created_at: at,
    updated_at: at,
    started_at: null,
    finished_at: null,
    cancel_requested_at: null,
    exit_code: null,
    exit_signal: null,
    error_code: null,
    error_message: null,
    error_fix: null,
    result: null,
    turn_count: 1,
    num_turns: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    total_cost_usd: 0,
    last_seq: 0,
    rate_limit_resets_at: null,
    stderr_tail: null,
    stderr_truncated: false,
    home_mcp: "hero_books",
    hero_context: null,
    permission_mode: "bypassPermissions",
    pause_reason: null,
    pause_window: null,
    paused_at: null,
    resume_at: null,
    max_cost_usd: null,
    max_turns: null,
    priority: "normal",
    active_ms: 0,
    active_since: null,
  };
  return row;
}

/**
 * A scripted service behind the transport: it keeps agents and their lines like the server, numbers
 * events, replays what a stream asks for and pushes new events live. The test plays claude. Like
 * the server, a replayed agent event carries the row as it is now. `holdStreams()` keeps new
 * streams waiting to be served (a loaded machine) until `serveStreams()`.
 */
function scriptedService() {
  const agents = new Map<string, Agent>();
  const lines = new Map<string, MessageEventData[]>();
  const events: Array<{ id: number; agent: Agent } | { id: number; message: MessageEventData }> =
    [];
  type Stream = { agentId: string; handlers: StreamHandlers; closed: boolean };
  const streams = new Set<Stream>();
  let held: Array<() => void> | null = null;
  const calls: Array<{ method: string; params: unknown }> = [];
  let clock = 1_000;
  let nextId = 1;
  /** Set to make the next call of this method fail, or wait. */
  const fail = new Map<string, RpcError>();
  const hold = new Map<string, Promise<void>>();

  function publish(event: { agent: Agent } | { message: MessageEventData }): void {
    const stored = { id: events.length + 1, ...event };
    events.push(stored);
    for (const s of streams) deliver(s, stored);
  }

  function deliver(s: Stream, e: (typeof events)[number], replay = false): void {
    if (s.closed) return; // like EventSource after close(): nothing more is dispatched
    if ("agent" in e && e.agent.id === s.agentId) {
      s.handlers.onAgent(replay ? agents.get(e.agent.id)! : e.agent, e.id);
    }
    if ("message" in e && e.message.agent_id === s.agentId) s.handlers.onMessage(e.message, e.id);
  }

  function update(id: string, patch: Partial<Agent>): Agent {
    const next = { ...agents.get(id)!, ...patch, updated_at: ++clock };
    agents.set(id, next);
    publish({ agent: next });
    return next;
  }

  function emit(id: string, raw: string): void {
    const list = lines.get(id)!;
    const message: MessageEventData = {
      agent_id: id,
      seq: list.length + 1,
      ts: ++clock,
      type: null,
      subtype: null,
      parse_error: false,
      byte_length: raw.length,
      raw,
      truncated: false,
    };
    list.push(message);
    update(id, { last_seq: message.seq });
    publish({ message });
  }

  async function answer(method: string, params: Record<string, unknown>): Promise<unknown> {
    calls.push({ method, params });
    await hold.get(method);
    const error = fail.get(method);
    if (error) {
      fail.delete(method);
      throw error;
    }
    switch (method) {
      case "system.info":
        return {
          claude: {
            models: ["claude-haiku-4-5", "claude-opus-5-5"],
            default_model: "claude-haiku-4-5",
            default_effort: "medium",
          },
        };
      case "system.health":
        return { checks: { events: { last_event_id: events.length } } };
      case "agent.create": {
        const agent = agentRow(`a${nextId++}`, String(params.prompt), ++clock);
        agents.set(agent.id, agent);
        lines.set(agent.id, []);
        publish({ agent });
        return agent;
      }
      case "agent.follow_up":
        return update(String(params.id), { status: "queued", turn_count: 2 });
      case "agent.cancel":
        return update(String(params.id), { status: "cancelled", cancel_requested_at: clock });
      case "agent.get": {
        const agent = agents.get(String(params.id));
        if (!agent) {
          throw new RpcError(-32001, "Cannot find agent", { name: "NotFound", code: "not_found" });
        }
        return agent;
      }
      case "agent.messages": {
        const after = Number(params.after_seq ?? 0);
        const page = (lines.get(String(params.id)) ?? []).filter((m) => m.seq > after);
        const messages = page.slice(0, Number(params.limit));
        return {
          messages,
          next_seq: messages.at(-1)?.seq ?? after,
          has_more: page.length > messages.length,
          has_older: after > 0,
        };
      }
      default:
        throw new Error(`Cannot answer ${method}`);
    }
  }

  const transport: WidgetTransport = {
    call: (method, params) => answer(method, params as Record<string, unknown>) as never,
    async batch(list) {
      return await Promise.all(
        list.map((c) =>
          answer(c.method, c.params as Record<string, unknown>).catch((e: RpcError) => e)
        ),
      );
    },
    stream(agentId, afterId, handlers) {
      const s: Stream = { agentId, handlers, closed: false };
      const serve = () => {
        if (s.closed) return;
        streams.add(s);
        for (const e of events.filter((e) => e.id > afterId)) deliver(s, e, true);
      };
      if (held) held.push(serve);
      else serve();
      return () => {
        s.closed = true;
        streams.delete(s);
      };
    },
  };
  return {
    transport,
    agents,
    calls,
    fail,
    hold,
    streams,
    update,
    emit,
    now: () => clock,
    holdStreams: () => void (held ??= []),
    serveStreams: () => {
      const waiting = held ?? [];
      held = null;
      for (const serve of waiting) serve();
    },
  };
}

function recorder() {
  const log: string[] = [];
  const items: Item[] = [];
  const replies: string[] = [];
  const listener: ControllerListener = {
    changed: () => log.push("changed"),
    infoLoaded: () => log.push("info"),
    inserted: (item, index) => items.splice(index, 0, item),
    cleared: () => items.splice(0),
    reply: (text) => {
      replies.push(text);
      log.push("reply");
    },
    replyDone: () => log.push("replyDone"),
  };
  return { log, items, replies, listener };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const NO_CHOICE = { model: "", effort: "" };

function setup(storage: Storage = new MemoryStorage(), service = scriptedService()) {
  const view = recorder();
  const controller = new WidgetController({
    homeMcp: "hero_books",
    api: service.transport,
    storage,
    listener: view.listener,
    now: service.now,
  });
  return { controller, service, view, storage };
}

Deno.test("WidgetController: a typed prompt creates an agent and follows its lines to the end", async () => {
  const { controller: c, service, view, storage } = setup();
  c.start();
  assert.equal(c.mode, "compose");
  c.setDraft("  write a file  ");
  const sending = c.submit("  write a file  ", false, { model: "", effort: "high" });
  assert.equal(c.pending, true);
  assert.equal(await sending, true);
  assert.equal(c.pending, false);
  const create = service.calls.find((x) => x.method === "agent.create")!;
  assert.deepEqual(create.params, {
    prompt: "write a file",
    home_mcp: "hero_books",
    voice: false,
    effort: "high",
  });
  const id = c.agent!.id;
  assert.equal(c.mode, "working");
  assert.equal(c.state.draft, "", "a sent draft is cleared");
  assert.equal(c.turnStartedAt, c.state.turnStartedAt);
  service.update(id, { status: "running", started_at: service.now() });
  for (const raw of TOOLS_LINES) service.emit(id, raw);
  assert.deepEqual(view.items.map((i) => [i.kind, i.seq]), [
    ["user", 0],
    ["text", 3],
    ["tool", 4],
    ["tool_result", 5],
    ["tool", 6],
    ["tool_result", 7],
    ["text", 8],
  ]);
  assert.deepEqual(view.replies, ["I'll write a file.", "done"], "live text goes to the voice");
  assert.deepEqual(c.items, view.items);
  service.update(id, { status: "awaiting_review", finished_at: service.now() });
  assert.equal(c.mode, "followup");
  assert.equal(view.log.filter((l) => l === "replyDone").length, 1);
  assert.equal(service.streams.size, 0, "the stream closes when the turn ends");
  assert.equal(c.turnStartedAt, null);
  const saved = JSON.parse(storage.getItem(stateKey("hero_books"))!);
  assert.equal(saved.agentId, id);
  assert.equal(saved.turnStartedAt, null);
});

Deno.test("WidgetController: a turn that ended before its stream was served is read out, then ends", async () => {
  const { controller: c, service, view } = setup();
  service.holdStreams();
  assert.equal(await c.submit("write a file", true, NO_CHOICE), true);
  const id = c.agent!.id;
  // The whole turn runs before the stream is served: every replayed agent event then carries the
  // finished row, so the first one already says awaiting_review, ahead of the turn's lines.
  service.update(id, { status: "running", started_at: service.now() });
  for (const raw of TOOLS_LINES) service.emit(id, raw);
  service.update(id, { status: "awaiting_review", finished_at: service.now() });
  service.serveStreams();
  assert.deepEqual(view.replies, ["I'll write a file.", "done"], "the reply is read out");
  assert.deepEqual(
    view.log.filter((l) => l === "reply" || l === "replyDone"),
    ["reply", "reply", "replyDone"],
    "the turn ends after its lines",
  );
  assert.deepEqual(view.items.map((i) => i.kind).slice(0, 2), ["user", "text"]);
  assert.equal(view.items.length, 7);
  assert.equal(c.mode, "followup");
  assert.equal(c.turnStartedAt, null);
  assert.equal(service.streams.size, 0, "the stream closes once the turn's lines are in");
});

Deno.test("WidgetController: a turn's end waits for its lines; meanwhile no new prompt is sent", async () => {
  const { controller: c, service, view } = setup();
  await c.submit("write a file", false, NO_CHOICE);
  const id = c.agent!.id;
  const stream = service.streams.values().next().value!;
  service.update(id, { status: "running" });
  // The row says the turn is over and holds two lines this stream has not delivered yet (its
  // updated_at is ahead, so the service's own row updates for those lines are older and ignored).
  const ended = { ...c.agent!, status: "awaiting_review" as const, last_seq: 2 };
  stream.handlers.onAgent({ ...ended, updated_at: service.now() + 1_000 }, 99);
  assert.equal(c.status, "awaiting_review");
  assert.equal(c.mode, "working");
  assert.equal(c.busy, true);
  assert.equal(await c.submit("too early", false, NO_CHOICE), false);
  assert.deepEqual(view.log.filter((l) => l === "replyDone"), []);
  service.emit(id, TOOLS_LINES[2]!);
  assert.deepEqual(view.log.filter((l) => l === "replyDone"), []);
  service.emit(id, TOOLS_LINES[7]!);
  assert.deepEqual(view.log.filter((l) => l === "reply" || l === "replyDone"), [
    "reply",
    "reply",
    "replyDone",
  ]);
  assert.equal(c.mode, "followup");
  assert.equal(service.streams.size, 0);
});

Deno.test("WidgetController: a follow-up goes to the same agent, its turn after the line it followed", async () => {
  const { controller: c, service, view, storage } = setup();
  c.start();
  await c.submit("first", false, NO_CHOICE);
  const id = c.agent!.id;
  service.emit(id, TOOLS_LINES[2]!);
  service.update(id, { status: "awaiting_review" });
  assert.equal(await c.submit("second", true, NO_CHOICE), true);
  assert.deepEqual(service.calls.at(-1), {
    method: "agent.follow_up",
    params: { id, prompt: "second", voice: true },
  });
  assert.equal(c.agent!.id, id);
  assert.equal(c.mode, "working");
  assert.deepEqual(c.state.turns, [{ afterSeq: 1, text: "second", voice: true }]);
  service.emit(id, TOOLS_LINES[7]!);
  assert.deepEqual(view.items.map((i) => [i.kind, i.seq]), [
    ["user", 0],
    ["text", 1],
    ["user", 1.5],
    ["text", 2],
  ]);
  // A replayed, older agent row never rolls the status back.
  const stale = { ...c.agent!, status: "awaiting_review" as const, updated_at: 0 };
  (service.streams.values().next().value!).handlers.onAgent(stale, 1);
  assert.equal(c.mode, "working");
  // After a reload the saved turn lands between the stored lines again.
  c.stop();
  const again = setup(storage, service);
  again.controller.start();
  await tick();
  await tick();
  assert.deepEqual(again.view.items, view.items);
});

Deno.test("WidgetController: a reload restores the conversation from storage and the server", async () => {
  const storage = new MemoryStorage();
  const first = setup(storage);
  first.controller.start();
  await first.controller.submit("first", false, NO_CHOICE);
  const id = first.controller.agent!.id;
  for (const raw of TOOLS_LINES.slice(0, 5)) first.service.emit(id, raw);
  first.controller.stop();

  const again = setup(storage, first.service);
  again.controller.start();
  assert.equal(again.controller.pending, true);
  await tick();
  await tick();
  assert.equal(again.controller.pending, false);
  assert.deepEqual(again.view.items, first.view.items);
  assert.equal(again.controller.mode, "working");
  assert.equal(first.service.streams.size, 1, "a running agent is followed again");
  // Lines after the reload arrive once, in order.
  first.service.emit(id, TOOLS_LINES[5]!);
  assert.deepEqual(again.view.items.at(-1), {
    kind: "tool",
    seq: 6,
    label: "Bash",
    detail: "echo bash-ran | tee bash_out.txt && cat hello.txt && pwd",
  });
  assert.deepEqual(again.view.replies, [], "restored lines are not read aloud");
});

Deno.test("WidgetController: a deleted agent is forgotten on restore", async () => {
  const storage = new MemoryStorage();
  const first = setup(storage);
  await first.controller.submit("first", false, NO_CHOICE);
  first.controller.stop();
  first.service.agents.clear();
  const again = setup(storage, first.service);
  again.controller.start();
  await tick();
  assert.equal(again.controller.state.agentId, null);
  assert.equal(again.controller.mode, "compose");
  assert.deepEqual(again.view.items, []);
  assert.equal(again.controller.error, null);
});

Deno.test("WidgetController: a refused prompt keeps the draft and says why", async () => {
  const { controller: c, service } = setup();
  c.setDraft("hi");
  service.fail.set(
    "agent.create",
    new RpcError(-32602, "Cannot create agent: unknown model", {
      name: "InvalidParams",
      code: "invalid_model",
      field: "model",
    }),
  );
  assert.equal(await c.submit("hi", false, { model: "nope", effort: "" }), false);
  assert.equal(c.error, "Cannot create agent: unknown model");
  assert.equal(c.state.draft, "hi");
  assert.equal(c.agent, null);
  assert.equal(c.pending, false);
  assert.equal(await c.submit("   ", false, NO_CHOICE), false, "nothing to send");
  assert.equal(service.calls.length, 1);
  assert.equal(await c.submit("hi", false, NO_CHOICE), true);
  assert.equal(c.error, null, "the next success clears the error");
});

Deno.test("WidgetController: cancel stops the running agent; a second prompt waits for it", async () => {
  const { controller: c, service, view } = setup();
  await c.submit("work", false, NO_CHOICE);
  service.update(c.agent!.id, { status: "running" });
  assert.equal(c.busy, true);
  assert.equal(await c.submit("more", false, NO_CHOICE), false, "no prompt while it works");
  const cancelling = c.cancel();
  assert.equal(c.cancelling, true);
  await cancelling;
  assert.equal(c.cancelling, false);
  assert.equal(c.status, "cancelled");
  assert.equal(c.mode, "compose");
  assert.ok(view.log.includes("replyDone"));
});

Deno.test("WidgetController: stop() drops answers that arrive afterwards", async () => {
  const { controller: c, service, view } = setup();
  let release!: () => void;
  service.hold.set("agent.create", new Promise<void>((r) => (release = r)));
  const sending = c.submit("late", false, NO_CHOICE);
  c.stop();
  release();
  assert.equal(await sending, false);
  assert.equal(c.agent, null);
  assert.deepEqual(view.items, []);
  assert.equal(c.state.agentId, null);
});

Deno.test("WidgetController: model and effort choices follow system.info and the saved state", async () => {
  const { controller: c, view } = setup();
  assert.equal(c.model, null, "no choices before system.info");
  assert.equal(c.effort, "");
  c.setOpen(true);
  await tick();
  assert.ok(view.log.includes("info"));
  assert.equal(c.model, "claude-haiku-4-5");
  assert.equal(c.effort, "medium", "the server's default effort");
  c.choose({ model: "claude-opus-5-5", effort: "max" });
  assert.equal(c.model, "claude-opus-5-5");
  assert.equal(c.effort, "max");
  c.choose({ model: "gone-model", effort: "turbo" });
  assert.equal(c.model, "claude-haiku-4-5", "a model no longer offered falls back");
  assert.equal(c.effort, "", "an unknown effort is left to the server");
  c.setOpen(false);
  c.setOpen(true);
  await tick();
  assert.equal(view.log.filter((l) => l === "info").length, 1, "system.info is read once");
});
