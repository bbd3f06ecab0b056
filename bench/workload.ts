/**
 * Deterministic workloads for the fake claude: line sizes modelled on real stream-json
 * transcripts, turned into fake-claude scenario steps.
 * @module
 */
import type { FakeStep } from "@hero/core/testing";

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One mega-byte tool result every this many lines (on average). */
export const HUGE_LINE_EVERY = 5_000;
/** Size of those lines. */
export const HUGE_LINE_BYTES = 1024 * 1024;
/** Longest run of same-sized lines (one `lines` step, written in ~1 MiB batches by the fake). */
const MAX_RUN = 16;

/**
 * Fake-claude steps for a transcript of `count` lines, sizes modelled on real stream-json
 * transcripts (newline excluded): 55 % 200–800 B (stream events, short assistant text, tool_use),
 * 30 % 0.8–4 KiB (longer text, thinking, edits), 15 % 4–20 KiB (tool results: file reads, command
 * output), each log-uniform, in runs of 1–16 lines of one size (one `lines` step each); plus one
 * 1 MiB tool result (`bigLine`) per {@linkcode HUGE_LINE_EVERY} lines on average. Mean ≈ 2.5 KB.
 * Deterministic for a seed.
 */
export function transcriptSteps(count: number, seed = 1): FakeStep[] {
  const rand = prng(seed);
  const logUniform = (lo: number, hi: number) =>
    Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));
  const steps: FakeStep[] = [];
  let left = count;
  const hugePerRun = (MAX_RUN + 1) / 2 / HUGE_LINE_EVERY;
  while (left > 0) {
    if (rand() < hugePerRun) {
      steps.push({ bigLine: HUGE_LINE_BYTES });
      left--;
      continue;
    }
    const r = rand();
    const bytes = r < 0.55
      ? logUniform(200, 800)
      : r < 0.85
      ? logUniform(800, 4096)
      : logUniform(4096, 20480);
    const n = Math.min(left, 1 + Math.floor(rand() * MAX_RUN));
    steps.push({ lines: n, bytes });
    left -= n;
  }
  return steps;
}

/** Lines and bytes (newlines included) the steps of {@linkcode transcriptSteps} ask for. */
export function stepBytes(steps: readonly FakeStep[]): { lines: number; bytes: number } {
  let lines = 0;
  let bytes = 0;
  for (const s of steps) {
    if ("bigLine" in s) {
      lines++;
      bytes += s.bigLine + 1;
    } else if ("lines" in s) {
      lines += s.lines;
      bytes += s.lines * ((s.bytes ?? 0) + 1);
    }
  }
  return { lines, bytes };
}
