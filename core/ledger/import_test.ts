import assert from "node:assert/strict";
import { importSessions } from "./mod.ts";
import { indexSearchBatch, openStore, searchMessages, type Store } from "../store/mod.ts";
import { realClaudeAvailable, runRealClaudeTurn, startMockAnthropic } from "../testing/mod.ts";

async function withStore(fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hero_ledger_" });
  const store = openStore(`${dir}/state/db.sqlite`);
  try {
    await fn(store, dir);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The lines of one synthetic session, as Claude Code writes them. */
function sessionLines(sessionId: string, cwd: string, n: number, from = 0): string[] {
  const lines: string[] = [];
  for (let i = from; i < from + n; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    lines.push(JSON.stringify(
      i % 2 === 0
        ? {
          type: "user",
          sessionId,
          cwd,
          uuid: crypto.randomUUID(),
          timestamp: ts,
          message: { role: "user", content: `question ${i} about ${sessionId}` },
        }
        : {
          type: "assistant",
          sessionId,
          cwd,
          uuid: crypto.randomUUID(),
          timestamp: ts,
          costUSD: 0.25,
          message: {
            role: "assistant",
            model: "claude-sonnet-4-6",
            content: [{ type: "text", text: `answer ${i}` }],
          },
        },
    ));
  }
  return lines;
}

Deno.test("import: a 5,000-session tree becomes 5,000 imported agents; a re-import adds nothing", async () => {
  await withStore(async (store, dir) => {
    const projects = `${dir}/config/projects`;
    for (let p = 0; p < 500; p++) {
      const cwd = `/work/project-${p}`;
      const folder = `${projects}/-work-project-${p}`;
      await Deno.mkdir(folder, { recursive: true });
      for (let s = 0; s < 10; s++) {
        const id = `00000000-0000-4000-8000-${String(p * 10 + s).padStart(12, "0")}`;
        await Deno.writeTextFile(
          `${folder}/${id}.jsonl`,
          sessionLines(id, cwd, 4).join("\n") + "\n",
        );
      }
    }
    // A subagent sidechain below a session is not a session of its own.
    await Deno.mkdir(`${projects}/-work-project-0/sub/subagents`, { recursive: true });
    await Deno.writeTextFile(`${projects}/-work-project-0/sub/subagents/a.jsonl`, "{}\n");

    const first = await importSessions({ store, configDir: `${dir}/config` });
    assert.deepEqual(
      { files: first.files, created: first.created, lines: first.lines, errors: first.errors },
      { files: 5000, created: 5000, lines: 20_000, errors: [] },
    );
    const imported = store.listAgentsByStatus(["completed"]).filter((a) => a.kind === "imported");
    assert.equal(imported.length, 5000);
    const one = imported.find((a) => a.session_id === "00000000-0000-4000-8000-000000000042")!;
    assert.equal(one.cwd, "/work/project-4");
    assert.equal(one.model, "claude-sonnet-4-6");
    assert.equal(one.prompt, "question 0 about 00000000-0000-4000-8000-000000000042");
    assert.equal(one.total_cost_usd, 0.5);
    assert.equal(one.last_seq, 4);
    assert.equal(one.started_at, Date.UTC(2026, 0, 1, 0, 0, 0));
    assert.equal(one.finished_at, Date.UTC(2026, 0, 1, 0, 0, 3));

    const again = await importSessions({ store, configDir: `${dir}/config` });
    assert.deepEqual([again.created, again.lines, again.malformed], [0, 0, 0]);

    // New lines of a live session: only they are added, to the same agent, in order.
    const file = `${projects}/-work-project-4/${one.session_id}.jsonl`;
    await Deno.writeTextFile(
      file,
      sessionLines(one.session_id!, one.cwd, 2, 4).join("\n") + "\n",
      { append: true },
    );
    const more = await importSessions({ store, path: file, configDir: `${dir}/config` });
    assert.deepEqual([more.created, more.lines, more.agents], [0, 2, [one.id]]);
    const after = store.getAgent(one.id)!;
    assert.equal(after.last_seq, 6);
    assert.equal(after.total_cost_usd, 0.75);
    const stored = store.readMessages(one.id, 0, 100).map((m) => JSON.parse(m.raw).message);
    assert.deepEqual(
      stored.filter((m) => m.role === "user").map((m) => m.content),
      [0, 2, 4].map((i) => `question ${i} about ${one.session_id}`),
    );
  });
});

Deno.test("import: malformed lines are counted and skipped; an unterminated last line waits", async () => {
  await withStore(async (store, dir) => {
    const file = `${dir}/s.jsonl`;
    const [a, b, c] = sessionLines("sess-m", "/work/m", 3);
    await Deno.writeTextFile(file, `${a}\nnot json\n[1,2]\n\n${b}\n{"trunc`);
    const first = await importSessions({ store, path: file, configDir: dir });
    assert.deepEqual([first.created, first.lines, first.malformed, first.errors], [1, 2, 2, []]);
    // The writer finishes the line it was writing, then another one.
    await Deno.writeTextFile(file, `ated":1}\n${c}\n`, { append: true });
    const second = await importSessions({ store, path: file, configDir: dir });
    assert.deepEqual([second.created, second.lines, second.malformed], [0, 2, 0]);
    const agent = store.getAgent(first.agents[0]!)!;
    assert.deepEqual(
      store.readMessages(agent.id, 0, 100).map((m) => m.raw),
      [a, b, '{"truncated":1}', c],
    );
    // A file rewritten under the watermark is refused, not re-imported as duplicates.
    await Deno.writeTextFile(file, `${a}\n`);
    const rewritten = await importSessions({ store, path: file, configDir: dir });
    assert.equal(rewritten.lines, 0);
    assert.match(rewritten.errors[0]!.message, /shorter than/);
    // A deleted imported agent does not come back with the next import.
    store.deleteAgent(agent.id);
    await Deno.writeTextFile(file, `${a}\n${b}\n${c}\n${c}\n`);
    const afterDelete = await importSessions({ store, path: file, configDir: dir });
    assert.deepEqual([afterDelete.created, afterDelete.lines, afterDelete.deleted], [0, 0, 1]);
    assert.equal(store.getAgent(agent.id), undefined);
  });
});

async function importInProcess(
  db: string,
  file: string,
): Promise<{ lines: number; malformed: number; hwm: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./testdata/import_rss.ts", import.meta.url).pathname, db, file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("import: a 200 MB session file streams with bounded memory", async () => {
  await withStore(async (_store, dir) => {
    const file = `${dir}/big.jsonl`;
    // 1 MiB of ~1 KiB lines, written 200 times: quick to make, 200 MiB on disk.
    const filler = "x".repeat(900);
    const block = new TextEncoder().encode(
      Array.from({ length: 1024 }, (_, i) =>
        JSON.stringify({
          type: "assistant",
          sessionId: "big",
          cwd: "/work/big",
          message: { role: "assistant", content: [{ type: "text", text: `${i} ${filler}` }] },
        }).padEnd(1023, " ")).join("\n") + "\n",
    );
    const out = await Deno.open(file, { write: true, create: true });
    for (let i = 0; i < 200; i++) await out.write(block);
    out.close();
    const size = (await Deno.stat(file)).size;
    assert.ok(size >= 200 * 1024 * 1024);

    // Peak RSS of a process importing it, against the same process importing one line.
    const small = `${dir}/small.jsonl`;
    await Deno.writeFile(small, block.subarray(0, block.indexOf(0x0a) + 1));
    const big = await importInProcess(`${dir}/big.sqlite`, file);
    const base = await importInProcess(`${dir}/small.sqlite`, small);
    const grew = big.hwm - base.hwm;
    console.log(
      `200 MiB import: peak RSS ${big.hwm >> 20} MiB vs ${base.hwm >> 20} MiB for one line (+${
        grew >> 20
      } MiB)`,
    );
    assert.deepEqual([big.lines, big.malformed, base.lines], [200 * 1024, 0, 1]);
    // Holding the file (or its lines) would cost at least its 200 MiB, twice that as strings. What
    // does grow is garbage of the parsed lines, which V8 lets pile up before it collects (measured
    // about +100 MiB), plus one 4 MiB batch.
    assert.ok(grew < 160 * 1024 * 1024, `peak RSS grew by ${grew >> 20} MiB`);
  });
});

Deno.test({
  name: "import: a transcript written by the real CLI is imported and searchable",
  ignore: !(await realClaudeAvailable()),
  async fn() {
    await using mock = await startMockAnthropic();
    await using turn = await runRealClaudeTurn({
      mockUrl: mock.url,
      prompt: "remember the walrus",
    });
    assert.equal(turn.code, 0, turn.stderr);
    await withStore(async (store) => {
      const report = await importSessions({ store, configDir: turn.configDir });
      assert.deepEqual([report.created, report.malformed, report.errors], [1, 0, []]);
      const agent = store.getAgent(report.agents[0]!)!;
      assert.equal(agent.kind, "imported");
      assert.equal(agent.status, "completed");
      assert.equal(agent.session_id, turn.init!.session_id);
      assert.equal(agent.cwd, await Deno.realPath(turn.cwd));
      assert.equal(agent.prompt, "remember the walrus");
      assert.equal(agent.model, "claude-haiku-4-5");
      while (indexSearchBatch(store, 1000) > 0) { /* until up to date */ }
      const found = searchMessages(store, { q: "walrus", limit: 20 });
      assert.ok(found.hits.some((h) => h.agent_id === agent.id && h.seq !== null));
      const again = await importSessions({ store, configDir: turn.configDir });
      assert.deepEqual([again.created, again.lines], [0, 0]);
    });
  },
});
