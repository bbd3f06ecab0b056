/**
 * Island: the header's usage meter (rate-limit headroom, burn rate, cost today), connection
 * indicator and the light/dark/auto theme switch.
 * @module
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { UsageMeter } from "../components/usage_meter.tsx";
import { base } from "../state/base.ts";
import { startClock } from "../state/clock.ts";
import { connection } from "../state/events.ts";
import { startUsage } from "../state/usage.ts";
import {
  disableNotifications,
  enableNotifications,
  notifyPermission,
  notifyWanted,
  startAttention,
} from "../state/attention.ts";
import { StorageBanner } from "../components/storage_banner.tsx";
import { startStorageWatch, storageHealth } from "../state/storage.ts";

/** When the header loads its usage reading if the page's island did not start it. */
const USAGE_START_FALLBACK_MS = 2_000;

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

/** The one place that asks for notification permission: only when the person clicks it. */
function NotifyToggle() {
  const permission = notifyPermission.value;
  if (permission === "unsupported") return null;
  if (permission === "denied") {
    return (
      <span
        class="notify-state notify-denied"
        data-notify="denied"
        title="This browser blocks notifications for this site; allow them in the site settings to be told when an agent needs you"
      >
        Notifications blocked
      </span>
    );
  }
  const on = notifyWanted.value && permission === "granted";
  return (
    <button
      type="button"
      class="button button-quiet notify-toggle"
      data-notify={on ? "on" : "off"}
      aria-pressed={on}
      title={on
        ? "You get a browser notification when an agent waits for review or fails. Click to stop."
        : "Get a browser notification when an agent waits for review or fails"}
      onClick={() => on ? disableNotifications() : void enableNotifications()}
    >
      {on ? "Notifications on" : "Notify me"}
    </button>
  );
}

function Topbar() {
  const [theme, setTheme] = useState<Theme>(currentTheme());
  useEffect(() => {
    startClock();
    startAttention();
    startStorageWatch();
    // The page's island starts the usage reading after its first screen (so the two do not
    // compete); this is the fallback for a page that does not.
    const fallback = setTimeout(startUsage, USAGE_START_FALLBACK_MS);
    return () => clearTimeout(fallback);
  }, []);
  const state = connection.value;
  return (
    <div class="topbar-tools">
      <StorageBanner storage={storageHealth.value} />
      <UsageMeter />
      <NotifyToggle />
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
        <span class="theme-label">{LABEL[theme]}</span>
      </button>
    </div>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement): void {
  render(<Topbar />, el);
}
