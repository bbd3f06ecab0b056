/** Island: the header's connection indicator and the light/dark/auto theme switch. */
import { render } from "preact";
import { useState } from "preact/hooks";
import { base } from "../state/base.ts";
import { connection } from "../state/events.ts";

type Theme = "auto" | "light" | "dark";
const NEXT: Record<Theme, Theme> = { auto: "light", light: "dark", dark: "auto" };
const LABEL: Record<Theme, string> = { auto: "Auto", light: "Light", dark: "Dark" };

function currentTheme(): Theme {
  const t = document.documentElement.dataset.theme;
  return t === "light" || t === "dark" ? t : "auto";
}

function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  const path = `${base()}/` || "/";
  const maxAge = theme === "auto" ? 0 : 31_536_000;
  document.cookie = `hero_admin_theme=${theme}; Path=${path}; Max-Age=${maxAge}; SameSite=Strict`;
}

const STATUS_TEXT = {
  idle: "",
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
} as const;

function Topbar() {
  const [theme, setTheme] = useState<Theme>(currentTheme());
  const state = connection.value;
  return (
    <div class="topbar-tools">
      {state !== "idle"
        ? (
          <span class={`conn conn-${state}`} role="status" data-connection={state}>
            <span class="conn-dot" aria-hidden="true"></span>
            {STATUS_TEXT[state]}
          </span>
        )
        : null}
      <button
        type="button"
        class="button button-quiet theme-toggle"
        title="Switch theme"
        aria-label={`Theme: ${LABEL[theme]}. Switch to ${LABEL[NEXT[theme]]}`}
        onClick={() => {
          const next = NEXT[theme];
          applyTheme(next);
          setTheme(next);
        }}
      >
        <span class={`theme-icon theme-icon-${theme}`} aria-hidden="true"></span>
        {LABEL[theme]}
      </button>
    </div>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement): void {
  render(<Topbar />, el);
}
