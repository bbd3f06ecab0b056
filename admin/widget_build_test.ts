/**
 * The widget's bundle: one self-contained classic script (no import/export, no Preact), small,
 * defining `<hero-agent-widget>` once even when included twice.
 */
import assert from "node:assert/strict";
import { PREACT_MARKER, WIDGET_OUTPUT } from "@hero/tools/build_admin";
import { tempDist } from "./testing/harness.ts";

Deno.test("build: the widget is one self-contained script without Preact, under 40 KB", async () => {
  const dist = (await tempDist()).pathname;
  const text = await Deno.readTextFile(`${dist}/${WIDGET_OUTPUT}`);
  assert.ok(text.length < 40_000, `${text.length} bytes`);
  assert.ok(text.startsWith("(()=>{"), "an IIFE: runs as a classic script");
  // A classic script parses as a function body: no import/export statements, no import.meta.
  new Function(text);
  assert.doesNotMatch(text, /\bimport\(/, "no dynamic import of other chunks");
  assert.ok(!text.includes(PREACT_MARKER), "no Preact inside");
  assert.match(text, /hero-agent-widget/);
  assert.match(text, /customElements\.get\("hero-agent-widget"\)/);
});
