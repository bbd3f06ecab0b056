import assert from "node:assert/strict";
import { MessageWriter } from "../store/mod.ts";
import { sampleAgent, tempStore } from "../store/_testing.ts";
import { exportFileName, exportStream } from "./mod.ts";
import { fence } from "./markdown.ts";

const enc = new TextEncoder();

function json(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

/** The lines as claude printed them: JSON, invalid UTF-8, CRLF residue, a last line without LF. */
const LINES: Array<{ bytes: Uint8Array; eofNoNewline?: boolean }> = [
  { bytes: json({ type: "system", subtype: "init", session_id: "s-1", model: "m" }) },
  {
    bytes: json({
      type: "user",
      isReplay: true,
      message: { role: "user", content: [{ type: "text", text: "Write notes.md\nplease" }] },
    }),
  },
  {
    bytes: json({
      type: "assistant",
      message: {
        content: [
          { type: "thinking", thinking: "Plan: one file." },
          { type: "text", text: "I will **write** it." },
          {
            type: "tool_use",
            id: "t1",
            name: "Write",
            input: { file_path: "/w/notes.md", content: "```x```" },
          },
        ],
      },
    }),
  },
  {
    bytes: json({
      type: "user",
      message: { content: [{ type: "tool_result", tool_use_id: "t1", content: "File created" }] },
    }),
  },
  { bytes: new Uint8Array([0x7b, 0xff, 0xfe, 0x22, 0x0d]) }, // not UTF-8, not JSON
  {
    bytes: json({
      type: "result",
      subtype: "success",
      is_error: false,
      result: "Done",
      duration_ms: 1500,
      total_cost_usd: 0.0123,
    }),
  },
  { bytes: enc.encode("trailing bytes without a newline"), eofNoNewline: true },
];

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("export: JSONL is the stored lines byte for byte; Markdown reads as a transcript", async () => {
  await using store = await tempStore();
  const agent = store.insertAgent(sampleAgent({ name: "Notes writer!", cwd: "/w" }));
  const writer = new MessageWriter(store, { maxDelayMs: 1, maxRows: 3 });
  for (const line of LINES) {
    await writer.append({
      agentId: agent.id,
      bytes: line.bytes,
      ts: Date.now(),
      type: null,
      subtype: null,
      parseError: false,
      eofNoNewline: line.eofNoNewline ?? false,
    });
  }
  await writer.close();
  const row = store.getAgent(agent.id)!;
  assert.equal(row.last_seq, LINES.length);

  const expected = new Uint8Array(
    LINES.flatMap((l) => [...l.bytes, ...(l.eofNoNewline ? [] : [0x0a])]),
  );
  assert.deepEqual(await collect(exportStream(store, row, "jsonl")), expected);

  const md = new TextDecoder().decode(await collect(exportStream(store, row, "markdown")));
  assert.match(md, /^# Notes writer!\n/);
  assert.match(md, /## You\n\n> Write notes.md\n> please\n/);
  assert.match(md, /I will \*\*write\*\* it\./);
  assert.match(md, /<details><summary>Thinking<\/summary>\n\n> Plan: one file\./);
  assert.match(md, /<summary>Tool: Write: \/w\/notes\.md<\/summary>/);
  // The tool input holds a ``` run: its fence is longer, so it cannot close early.
  assert.match(md, /````json\n\{\n {2}"file_path"/);
  assert.match(md, /<summary>Tool output<\/summary>\n\n```\nFile created\n```/);
  assert.match(md, /\*Turn finished in 1\.5 s, \$0\.01 so far\.\*/);
  assert.match(md, /## Summary/);
  assert.equal(exportFileName(row, "markdown"), `notes-writer-${row.id.slice(0, 8)}.md`);
});

Deno.test("export: pages past 500 lines; stops at the agent row's last_seq", async () => {
  await using store = await tempStore();
  const agent = store.insertAgent(sampleAgent());
  const writer = new MessageWriter(store, { maxDelayMs: 1, maxRows: 1000 });
  const acks = [];
  for (let i = 0; i < 1203; i++) {
    acks.push(writer.append({
      agentId: agent.id,
      bytes: json({ type: "assistant", i }),
      ts: i,
      type: "assistant",
      subtype: null,
      parseError: false,
      eofNoNewline: false,
    }));
  }
  await Promise.all(acks);
  const snapshot = store.getAgent(agent.id)!;
  // Lines that arrive after the export began are not in it.
  await writer.append({
    agentId: agent.id,
    bytes: json({ late: true }),
    ts: 0,
    type: null,
    subtype: null,
    parseError: false,
    eofNoNewline: false,
  });
  await writer.close();
  const text = new TextDecoder().decode(await collect(exportStream(store, snapshot, "jsonl")));
  const lines = text.split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.length, 1203);
  assert.deepEqual(lines.map((l) => JSON.parse(l).i), Array.from({ length: 1203 }, (_, i) => i));
});

Deno.test("fence(): longer than any backtick run inside", () => {
  assert.equal(fence("a"), "```\na\n```");
  assert.equal(fence("x ```` y", "sh"), "`````sh\nx ```` y\n`````");
});
