/**
 * Entry of `/widget/hero-agent-widget.js` (served by the admin, bundled on its own as one classic
 * script without imports): defines `<hero-agent-widget>` once per page. Include it with
 *
 * ```html
 * <script src="/hero_orchestrator/admin/widget/hero-agent-widget.js" defer></script>
 * <hero-agent-widget home-mcp="hero_books"></hero-agent-widget>
 * ```
 *
 * The widget's API base is taken from this script's own URL (`document.currentScript`, or the
 * `<script>` whose src ends in `/widget/hero-agent-widget.js` when it runs as a module), never from
 * the page's URL, so it works under any hero_router prefix.
 * @module
 */
import { widgetBases } from "./base.ts";
import { HeroAgentWidget } from "./element.ts";

function ownScriptUrl(): string | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src) return current.src;
  for (const script of Array.from(document.scripts)) {
    if (/\/widget\/hero-agent-widget\.js(?:[?#]|$)/.test(script.src)) return script.src;
  }
  return null;
}

if (!customElements.get("hero-agent-widget")) {
  const url = ownScriptUrl();
  HeroAgentWidget.bases = url ? widgetBases(url, location.origin) : null;
  customElements.define("hero-agent-widget", HeroAgentWidget);
}
