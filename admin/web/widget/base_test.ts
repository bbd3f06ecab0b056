import assert from "node:assert/strict";
import { isHomeMcp, voiceBaseOverride, widgetBases } from "./base.ts";

const O = "https://h.example";

Deno.test("widgetBases() takes the admin base from the script URL, under any router prefix", () => {
  assert.deepEqual(widgetBases(`${O}/hero_orchestrator/admin/widget/hero-agent-widget.js`, O), {
    admin: "/hero_orchestrator/admin",
    voice: "/hero_voice",
  });
  assert.deepEqual(
    widgetBases(`${O}/edge/hero_orchestrator/admin/widget/hero-agent-widget.js?v=2`, O),
    { admin: "/edge/hero_orchestrator/admin", voice: "/edge/hero_voice" },
  );
  assert.deepEqual(widgetBases(`${O}/widget/hero-agent-widget.js`, O), {
    admin: "",
    voice: "/hero_voice",
  });
});

Deno.test("widgetBases() refuses a script elsewhere or on another origin", () => {
  assert.equal(widgetBases("https://cdn.example/widget/hero-agent-widget.js", O), null);
  assert.equal(widgetBases(`${O}/static/widget.js`, O), null);
  assert.equal(widgetBases("not a url", O), null);
});

Deno.test("isHomeMcp() and voiceBaseOverride() accept only well-formed values", () => {
  assert.ok(isHomeMcp("hero_books"));
  for (const bad of [null, "", "hero_", "books", "Hero_books", "hero-books", " hero_books"]) {
    assert.ok(!isHomeMcp(bad), String(bad));
  }
  assert.equal(voiceBaseOverride("/x/hero_voice/"), "/x/hero_voice");
  assert.equal(voiceBaseOverride("https://evil.example/v"), null);
  assert.equal(voiceBaseOverride("/a/../b"), null);
  assert.equal(voiceBaseOverride(null), null);
});
