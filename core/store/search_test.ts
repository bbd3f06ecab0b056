import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  checkSearchIndex,
  MessageWriter,
  openStore,
  parseSearchQuery,
  rebuildSearchIndex,
  type SearchHit,
  SearchIndexer,
  searchMessages,
  searchStatus,
  SearchSyntaxError,
  type Store,
} from "./mod.ts";
import { jsonLine, sampleAgent, tempDbPath, tempStore } from "./_testing.ts";

function prompt(text: string): unknown {
  return {
    type: "user",
    message: { role: "user", content: [{ type: "text", text }] },
    isReplay: true,
  };
}

function said(text: string): unknown {
  return { type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] } };
}

function toolUse(name: string, input: unknown): unknown {
  return {
    type: "assistant",
    message: { role: "assistant", content: [{ type: "tool_use", id: "t1", name, input }] },
  };
}

function thought(text: string): unknown {
  return {
    type: "assistant",
    message: { role: "assistant", content: [{ type: "thinking", thinking: text }] },
  };
}

async function store_lines(store: Store, agentId: string, lines: unknown[]): Promise<void> {
  const writer = new MessageWriter(store, { maxDelayMs: 0 });
  for (const value of lines) {
    const type = (value as { type: string }).type;
    await writer.append({
      agentId,
      bytes: jsonLine(value),
      ts: Date.now(),
      type,
      subtype: null,
      parseError: false,
      eofNoNewline: false,
    });
  }
  await writer.close();
}

function ids(hits: SearchHit[]): string[] {
  return hits.map((h) => `${h.agent_id}:${h.seq}`);
}

async function seeded(store: Store) {
  const a = store.insertAgent(sampleAgent({ name: "refactor parser", cwd: "/work/alpha" }));
  const b = store.insertAgent(sampleAgent({ name: "docs", cwd: "/work/beta" }));
  await store_lines(store, a.id, [
    { type: "system", subtype: "init", session_id: "s" },
    prompt("please rename the zanzibar function"),
    said("The quick brown fox jumps over the lazy dog."),
    toolUse("Edit", {
      file_path: "/work/alpha/src/lib/parser.ts",
      old_string: "a",
      new_string: "b",
    }),
    thought("secret musing about quasars"),
  ]);
  await store_lines(store, b.id, [
    prompt("write docs for zanzibar"),
    said("Brown bears are not foxes."),
  ]);
  const indexer = new SearchIndexer(store);
  indexer.catchUp();
  return { a, b, indexer };
}

Deno.test("searchMessages() finds a prompt word, an assistant phrase and a tool-input path", async () => {
  await using store = await tempStore();
  const { a, b } = await seeded(store);

  const word = searchMessages(store, { q: "zanzibar", limit: 20 });
  assert.deepEqual(ids(word.hits).sort(), [`${a.id}:2`, `${b.id}:1`].sort());
  assert.equal(word.total, 2);
  const hitA = word.hits.find((h) => h.agent_id === a.id)!;
  assert.equal(hitA.field, "prompt");
  assert.equal(hitA.name, "refactor parser");
  assert.ok(hitA.snippet.some((p) => p.match && p.text.toLowerCase() === "zanzibar"));

  const phrase = searchMessages(store, { q: '"quick brown fox"', limit: 20 });
  assert.deepEqual(ids(phrase.hits), [`${a.id}:3`]);
  assert.equal(phrase.hits[0]!.field, "assistant");
  assert.equal(
    phrase.hits[0]!.snippet.filter((p) => p.match).map((p) => p.text).join("|"),
    "quick brown fox",
  );
  // The words, but not in this order.
  assert.equal(searchMessages(store, { q: '"fox brown"', limit: 20 }).hits.length, 0);

  const path = searchMessages(store, { q: "src/lib/parser.ts", limit: 20 });
  assert.deepEqual(ids(path.hits), [`${a.id}:4`]);
  assert.equal(path.hits[0]!.field, "tool");

  // Prefix, exclusion, and the agent's own name.
  assert.deepEqual(
    ids(searchMessages(store, { q: "zanzi*", limit: 20 }).hits).sort(),
    [`${a.id}:2`, `${b.id}:1`].sort(),
  );
  assert.deepEqual(ids(searchMessages(store, { q: "zanzibar -docs", limit: 20 }).hits), [
    `${a.id}:2`,
  ]);
  const named = searchMessages(store, { q: "refactor", limit: 20 });
  assert.deepEqual(named.hits.map((h) => [h.agent_id, h.seq, h.field]), [[a.id, null, "agent"]]);
  // A renamed agent is found by its new name only.
  store.updateAgent(a.id, { name: "wombat tamer" });
  assert.deepEqual(ids(searchMessages(store, { q: "wombat", limit: 20 }).hits), [`${a.id}:null`]);
  assert.equal(searchMessages(store, { q: "refactor", limit: 20 }).hits.length, 0);
  // Thinking is not indexed unless asked for.
  assert.equal(searchMessages(store, { q: "quasars", limit: 20 }).hits.length, 0);
});

Deno.test("searchMessages() respects cwd, status, kind and time filters and pages with a cursor", async () => {
  await using store = await tempStore();
  const { a, b } = await seeded(store);
  const q = "zanzibar";
  assert.deepEqual(
    ids(searchMessages(store, { q, cwd: "/work/beta", limit: 20 }).hits),
    [`${b.id}:1`],
  );
  store.transition(a.id, "running");
  assert.deepEqual(
    ids(searchMessages(store, { q, status: ["running"], limit: 20 }).hits),
    [`${a.id}:2`],
  );
  assert.equal(searchMessages(store, { q, kind: ["planner"], limit: 20 }).hits.length, 0);
  // Shadows repeat their parent's words: left out unless asked for.
  const shadow = store.insertAgent(sampleAgent({ kind: "shadow", parent_id: a.id }));
  await store_lines(store, shadow.id, [said("name this: zanzibar")]);
  new SearchIndexer(store).catchUp();
  assert.equal(searchMessages(store, { q, limit: 20 }).total, 2);
  assert.deepEqual(
    ids(searchMessages(store, { q, kind: ["shadow"], limit: 20 }).hits),
    [`${shadow.id}:1`],
  );
  assert.equal(searchMessages(store, { q, since: Date.now() + 60_000, limit: 20 }).hits.length, 0);
  assert.equal(searchMessages(store, { q, until: 1, limit: 20 }).hits.length, 0);

  const first = searchMessages(store, { q, limit: 1 });
  assert.equal(first.hits.length, 1);
  assert.equal(first.total, 2);
  assert.ok(first.next_cursor);
  const second = searchMessages(store, { q, limit: 1, cursor: first.next_cursor! });
  assert.equal(second.hits.length, 1);
  assert.notEqual(ids(first.hits)[0], ids(second.hits)[0]);
  // Newest first.
  assert.ok(first.hits[0]!.ts >= second.hits[0]!.ts);
});

Deno.test("searchMessages() drops a deleted agent's lines at once, and a reused rowid is indexed afresh", async () => {
  await using store = await tempStore();
  const { a, b, indexer } = await seeded(store);
  store.deleteAgent(b.id); // b holds the newest rowids: they are reused by the next lines
  assert.deepEqual(ids(searchMessages(store, { q: "zanzibar", limit: 20 }).hits), [`${a.id}:2`]);
  assert.equal(searchMessages(store, { q: "docs", limit: 20 }).hits.length, 0);
  const c = store.insertAgent(sampleAgent({ cwd: "/work/gamma" }));
  await store_lines(store, c.id, [said("platypus"), said("zanzibar again")]);
  indexer.catchUp();
  assert.deepEqual(
    ids(searchMessages(store, { q: "zanzibar", limit: 20 }).hits),
    [`${c.id}:2`, `${a.id}:2`],
  );
  assert.deepEqual(ids(searchMessages(store, { q: "platypus", limit: 20 }).hits), [`${c.id}:1`]);
  assert.equal(searchMessages(store, { q: "bears", limit: 20 }).hits.length, 0);
  assert.equal(checkSearchIndex(store), "ok");
});

Deno.test("rebuildSearchIndex() after a damaged index gives the same hits", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    let store = openStore(path);
    await seeded(store);
    const queries = ["zanzibar", '"quick brown fox"', "src/lib/parser.ts", "brown -bears", "work"];
    const before = queries.map((q) => ids(searchMessages(store, { q, limit: 20 }).hits));
    store.close();
    // Damage the index's own records, as a torn write would (SQLite's defensive mode, on in the
    // engine's connections, refuses writes to FTS5's shadow tables).
    const raw = new DatabaseSync(
      path,
      { defensive: false } as ConstructorParameters<
        typeof DatabaseSync
      >[1],
    );
    raw.exec("UPDATE search_fts_data SET block = zeroblob(length(block)) WHERE id > 10");
    raw.close();
    store = openStore(path);
    assert.notEqual(checkSearchIndex(store), "ok");
    rebuildSearchIndex(store);
    assert.equal(searchStatus(store).ready, false);
    new SearchIndexer(store).catchUp();
    assert.equal(searchStatus(store).ready, true);
    assert.equal(checkSearchIndex(store), "ok");
    const after = queries.map((q) => ids(searchMessages(store, { q, limit: 20 }).hits));
    assert.deepEqual(after, before);
    store.close();
  } finally {
    await cleanup();
  }
});

Deno.test("searchMessages() refuses bad syntax with SearchSyntaxError, never an FTS5 error", async () => {
  await using store = await tempStore();
  await seeded(store);
  for (const q of ['"unterminated', "", "   ", "-only", "-", '-"only this"', "***"]) {
    assert.throws(
      () => searchMessages(store, { q, limit: 20 }),
      SearchSyntaxError,
      `query ${JSON.stringify(q)}`,
    );
  }
  // FTS5 operators typed by a person are words, not syntax.
  for (
    const q of [
      "NOT",
      "AND OR",
      "NEAR(a b)",
      "col:zanzibar",
      "^zanzibar",
      "{x} + y",
      "((((foo",
      "a*b",
      'x"y"',
    ]
  ) {
    searchMessages(store, { q, limit: 20 });
  }
  assert.equal(searchMessages(store, { q: "col:zanzibar", limit: 20 }).hits.length, 0);
  assert.throws(
    () => searchMessages(store, { q: "fox", limit: 20, cursor: "x" }),
    SearchSyntaxError,
  );
});

Deno.test("parseSearchQuery() quotes every term", () => {
  assert.equal(
    parseSearchQuery('foo "a b"* -bar src/x.ts').fts,
    '("foo" AND "a b"* AND "src x ts") NOT ("bar")',
  );
});

Deno.test("SearchIndexer backfills in the background and indexes thinking only when asked", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  await store_lines(store, a.id, [
    ...Array.from({ length: 50 }, (_, i) => said(`line number ${i} wombat`)),
    thought("deep quasar thoughts"),
  ]);
  assert.equal(searchStatus(store).pending, 51);
  const indexer = new SearchIndexer(store, { batchRows: 7, pauseMs: 0, thinking: true });
  indexer.start();
  const deadline = Date.now() + 30_000;
  while (!searchStatus(store).ready && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  indexer.close();
  assert.equal(searchStatus(store).ready, true);
  assert.equal(searchMessages(store, { q: "wombat", limit: 100 }).total, 50);
  const thinking = searchMessages(store, { q: "quasar", limit: 20, thinking: true });
  assert.deepEqual(thinking.hits.map((h) => [h.seq, h.field]), [[51, "thinking"]]);
});
