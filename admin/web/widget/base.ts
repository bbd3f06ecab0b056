/**
 * Where the widget talks to, derived from its own script URL only (never from the host page's
 * URL): the admin's base path (`…/widget/hero-agent-widget.js` → `…`), and hero_voice's base on
 * the same router (`/hero_orchestrator/admin` → `/hero_voice`).
 * @module
 */

/** The widget's URL bases, as absolute paths on the page's origin. */
export interface WidgetBases {
  /** The admin under the router, e.g. `/hero_orchestrator/admin` (`""` at the origin root). */
  admin: string;
  /** hero_voice under the same router, e.g. `/hero_voice`. */
  voice: string;
}

const SCRIPT_PATH = /\/widget\/hero-agent-widget\.js$/;
const ADMIN_MOUNT = /\/hero_orchestrator\/admin$/;

/**
 * The bases for a widget script at `scriptUrl`, or null when it is not on `origin` or not at
 * `…/widget/hero-agent-widget.js` (the widget then refuses to make requests).
 *
 * @example
 * ```ts
 * import { widgetBases } from "./base.ts";
 * widgetBases("https://h.example/hero_orchestrator/admin/widget/hero-agent-widget.js", "https://h.example");
 * // { admin: "/hero_orchestrator/admin", voice: "/hero_voice" }
 * ```
 */
export function widgetBases(scriptUrl: string, origin: string): WidgetBases | null {
  let url: URL;
  try {
    url = new URL(scriptUrl);
  } catch {
    return null;
  }
  if (url.origin !== origin || !SCRIPT_PATH.test(url.pathname)) return null;
  const admin = url.pathname.replace(SCRIPT_PATH, "");
  const routerRoot = ADMIN_MOUNT.test(admin) ? admin.replace(ADMIN_MOUNT, "") : "";
  return { admin, voice: `${routerRoot}/hero_voice` };
}

/** A `voice-base` attribute value: an absolute path without a trailing slash, else null. */
export function voiceBaseOverride(value: string | null): string | null {
  if (value === null) return null;
  const trimmed = value.trim().replace(/\/+$/, "");
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) return null;
  return trimmed.split("/").some((s) => s === "." || s === "..") ? null : trimmed;
}

/** A canonical Hero service name (`hero_books`); the widget never guesses one. */
export function isHomeMcp(value: string | null): boolean {
  return value !== null && value.length <= 64 && /^hero_[a-z0-9_]+$/.test(value);
}
