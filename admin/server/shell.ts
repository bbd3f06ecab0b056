/**
 * Server-rendered page shells: the frame (header, theme, mount points) around client-rendered
 * islands. Every interpolated value goes through {@linkcode escapeHtml}; island props travel as
 * JSON in a `data-props` attribute. No inline script or style: the pages run under
 * {@linkcode CONTENT_SECURITY_POLICY}.
 * @module
 */

/** The policy of every admin response. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  // The widget's voice mode plays synthesized speech from blob: URLs.
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./shell.ts";
 * escapeHtml(`<img src=x onerror="alert(1)">`); // "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** One island mount point. */
export interface IslandMount {
  name: string;
  props?: Record<string, unknown>;
  /** Shown until the island mounts (plain text). */
  placeholder?: string;
  /** Extra class names on the mount element. */
  className?: string;
}

/** What a page shell shows. */
export interface PageOptions {
  title: string;
  /** The router prefix ("" at the root). */
  base: string;
  /** `light`, `dark` or `auto` (from the theme cookie). */
  theme: string;
  /** Which nav entry is current. */
  current: "dashboard" | "agent" | "other";
  islands: IslandMount[];
  /** Classes of `<main>`. */
  mainClass?: string;
  /** Module paths under `/assets/` to announce with `<link rel="modulepreload">`. */
  preload?: string[];
}

function mount(island: IslandMount): string {
  const props = escapeHtml(JSON.stringify(island.props ?? {}));
  const cls = island.className ? ` class="${escapeHtml(island.className)}"` : "";
  const placeholder = island.placeholder
    ? `<p class="placeholder">${escapeHtml(island.placeholder)}</p>`
    : "";
  return `<div data-island="${
    escapeHtml(island.name)
  }" data-props="${props}"${cls}>${placeholder}</div>`;
}

/** The theme cookie value, or `auto`. */
export function themeFrom(cookieHeader: string | null): "light" | "dark" | "auto" {
  const m = /(?:^|;\s*)hero_admin_theme=(light|dark)(?:;|$)/.exec(cookieHeader ?? "");
  return m ? (m[1] as "light" | "dark") : "auto";
}

/** Renders a full page. */
export function renderPage(options: PageOptions): string {
  const base = escapeHtml(options.base);
  const theme = escapeHtml(options.theme);
  const current = (name: PageOptions["current"]) =>
    options.current === name ? ' aria-current="page"' : "";
  return `<!doctype html>
<html lang="en" data-theme="${theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="hero-base" content="${base}">
<title>${escapeHtml(options.title)} · Hero Orchestrator</title>
<link rel="icon" href="${base}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/assets/app.css">
<script type="module" src="${base}/assets/boot.js"></script>
${
    (options.preload ?? []).map((path) =>
      `<link rel="modulepreload" href="${base}/assets/${escapeHtml(path)}">`
    ).join("\n")
  }
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
<a class="brand" href="${base}/"><span class="brand-mark" aria-hidden="true"></span>Hero Orchestrator</a>
<nav class="topnav" aria-label="Main"><a href="${base}/"${current("dashboard")}>Agents</a></nav>
${mount({ name: "search_box", className: "search-island" })}
${mount({ name: "topbar", className: "topbar-island" })}
</header>
<main id="main" class="${escapeHtml(options.mainClass ?? "")}">
${options.islands.map(mount).join("\n")}
<noscript><p class="notice">This dashboard needs JavaScript.</p></noscript>
</main>
</body>
</html>
`;
}
