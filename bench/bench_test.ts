import assert from "node:assert/strict";

const BENCH = new URL("../tools/bench.ts", import.meta.url).pathname;

Deno.test("deno task bench --smoke --only ingest,spawn,scale runs and writes a valid results file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_bench_test_" });
  try {
    const out = `${dir}/results.json`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        BENCH,
        "--smoke",
        "--only",
        // ingest also checks every stored row against the fake's own transcript.
        "ingest,spawn,scale",
        "--out",
        out,
        "--cache",
        `${dir}/cache`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, `bench exited ${run.code}:\n${stdout}\n${stderr}`);
    // The table: a header, a rule, and rows naming the scenarios.
    assert.match(stdout, /^\| scenario +\| figure/m);
    assert.match(stdout, /^\| ingest /m);
    assert.match(stdout, /^\| spawn /m);
    assert.match(stdout, /^\| scale /m);

    const report = JSON.parse(await Deno.readTextFile(out));
    assert.equal(report.schema, "hero_orchestrator.bench/1");
    assert.equal(report.mode, "smoke");
    assert.equal(typeof report.machine.nproc, "number");
    assert.equal(typeof report.machine.cpu_model, "string");
    assert.deepEqual(report.scenarios.map((s: { name: string }) => s.name), [
      "ingest",
      "spawn",
      "scale",
    ]);
    for (const s of report.scenarios) {
      assert.equal(s.status, "ok", `${s.name}: ${s.reason}`);
      assert.ok(s.figures.length > 0, `${s.name} has figures`);
      for (const f of s.figures) {
        assert.equal(typeof f.id, "string");
        assert.equal(typeof f.label, "string");
        assert.ok(f.value === null || Number.isFinite(f.value), `${f.id} value`);
        assert.ok(f.ratio === null || Number.isFinite(f.ratio), `${f.id} ratio`);
        assert.ok(f.met === null || typeof f.met === "boolean", `${f.id} met`);
        if (f.baseline) assert.equal(typeof f.baseline.label, "string");
      }
    }
    // A headline figure carries a same-run baseline.
    const spawn = report.scenarios[1].figures.find((f: { id: string }) =>
      f.id === "spawn.first_line.p50"
    );
    assert.ok(spawn.value > 0 && spawn.baseline.value > 0);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task bench rejects unknown scenarios and flags with exit code 2", async () => {
  for (const args of [["--only", "nope"], ["--fast"], ["--quick", "--smoke"]]) {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", BENCH, ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 2, args.join(" "));
    assert.match(new TextDecoder().decode(run.stderr), /^error: /);
  }
});
