/**
 * Notification settings: where the daemon tells a person that an agent needs them. Pure: no I/O.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `HERO_ORCHESTRATOR_NOTIFY_URL` | – | webhook that receives one JSON POST per event (ntfy, Slack bridges) |
 * | `HERO_ORCHESTRATOR_NOTIFY_LINK_BASE` | – | the admin's public base URL; notifications then carry a deep link |
 * | `HERO_ORCHESTRATOR_NOTIFY_RETRIES` | `5` | delivery attempts after the first one fails |
 * | `HERO_ORCHESTRATOR_NOTIFY_TIMEOUT_MS` | `10000` | one delivery attempt gives up after this long |
 * @module
 */
import type { Env } from "./paths.ts";
import { intSetting } from "./setting.ts";

export interface NotifySettings {
  /** Webhook URL, or null: no webhook. */
  url: string | null;
  /** Base URL of the admin as people open it (deep links are `<base>/agents/<id>`), or null. */
  linkBase: string | null;
  /** Attempts after the first failed one, with exponential back-off. */
  retries: number;
  /** One attempt's deadline. */
  timeoutMs: number;
  /** First back-off delay; doubles per attempt up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Notifications waiting beyond this many are dropped, oldest first (and counted). */
  maxQueue: number;
}

function url(env: Env, name: string): string | null {
  const raw = env[name];
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new RangeError(`Cannot read ${name}: "${raw}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new RangeError(`Cannot read ${name}: "${raw}" must be an http(s) URL`);
  }
  return parsed.href;
}

export function resolveNotifySettings(env: Env): NotifySettings {
  return {
    url: url(env, "HERO_ORCHESTRATOR_NOTIFY_URL"),
    linkBase: url(env, "HERO_ORCHESTRATOR_NOTIFY_LINK_BASE")?.replace(/\/+$/, "") ?? null,
    retries: intSetting(env, "HERO_ORCHESTRATOR_NOTIFY_RETRIES", 5, 0),
    timeoutMs: intSetting(env, "HERO_ORCHESTRATOR_NOTIFY_TIMEOUT_MS", 10_000, 1),
    backoffMs: 500,
    maxBackoffMs: 60_000,
    maxQueue: 1000,
  };
}
