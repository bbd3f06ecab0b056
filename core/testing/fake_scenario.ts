/**
 * Builders for fake `claude` prompts and stdin lines. The step reference is in `fake_claude.ts`.
 *
 * @example
 * ```ts
 * const line = userLine(fakePrompt([{ init: true }, { text: "hi" }, { result: {} }]));
 * // write `line` to the fake's stdin
 * ```
 * @module
 */
import type { FakeResultOverrides, FakeScenario, FakeStep } from "./fake_claude.ts";

export type { FakeResultOverrides, FakeScenario, FakeStep };

/** `FAKE:<json>`: the prompt text that makes the fake run `scenario` (or these steps). */
export function fakePrompt(scenario: FakeScenario | FakeStep[]): string {
  return `FAKE:${JSON.stringify(Array.isArray(scenario) ? { steps: scenario } : scenario)}`;
}

/**
 * An `auto` scenario that writes `linesPerTick` lines of `bytes` bytes every `tickMs` for `ticks`
 * ticks: a steady stream at a known rate (sustained-load tests).
 */
export function steadyScenario(
  options: { linesPerTick: number; bytes: number; tickMs: number; ticks: number },
): FakeScenario {
  const tick: FakeStep[] = [
    { lines: options.linesPerTick, bytes: options.bytes },
    { sleep: options.tickMs },
  ];
  return { auto: true, steps: Array.from({ length: options.ticks }, () => tick).flat() };
}

/** One stream-json stdin line (with its `\n`) carrying a user text message. */
export function userLine(text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: "user",
    message: { role: "user", content: [{ type: "text", text }] },
    parent_tool_use_id: null,
    ...extra,
  }) + "\n";
}
