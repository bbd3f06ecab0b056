/**
 * The OAuth usage poll: `GET <url>` (default `<upstream>/api/oauth/usage`) with the OAuth access
 * token, every `intervalMs`. Each reading is stored; without an OAuth credential (or with an
 * interval of 0) the poll is off and says why. The endpoint is unofficial and may change: a reading
 * that does not parse is stored as-is and reported with no windows.
 * @module
 */
import { TESTED_CLAUDE_VERSION } from "../config/claude_version.ts";
import type { OauthPoll, Store } from "../store/mod.ts";
import { escapeControl, type Log } from "@hero/service/log";
import type { CredentialSource } from "../proxy/mod.ts";

/** The CLI version whose User-Agent the poll sends (without a claude-code UA it is throttled). */
const CLAUDE_CODE_UA = `claude-code/${TESTED_CLAUDE_VERSION}`;

export interface UsagePollOptions {
  store: Pick<Store, "recordOauthPoll" | "latestOauthPoll">;
  credentials: Pick<CredentialSource, "oauth">;
  url: string;
  /** 0 = off. */
  intervalMs: number;
  log: Log;
  /** Delay of the first poll after `start()`. Default 2 s. */
  firstDelayMs?: number;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
}

/** One window of a usage reading; `utilization` is a fraction (0.91 = 91 %). */
export interface UsageWindow {
  name: string;
  utilization: number | null;
  resets_at: number | null;
  status: string | null;
}

/** The poll's state for `usage.get`. */
export interface UsagePollStatus {
  /** `disabled` (with `detail`), `pending` (no reading yet), `ok` or `error` (last reading). */
  status: "disabled" | "pending" | "ok" | "error";
  detail: string | null;
  url: string;
  interval_ms: number;
  next_at: number | null;
  last: {
    ts: number;
    ok: boolean;
    http_status: number | null;
    error: string | null;
    windows: UsageWindow[];
  } | null;
  /** The newest successful reading, when the last one failed. */
  last_ok: { ts: number; windows: UsageWindow[] } | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Windows of an `/api/oauth/usage` body (`five_hour`, `seven_day`, …: percent + reset time). */
export function parseUsageWindows(body: string | null): UsageWindow[] {
  if (!body) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (!isRecord(parsed)) return [];
  const windows: UsageWindow[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (!isRecord(value) || typeof value.utilization !== "number") continue;
    const reset = typeof value.resets_at === "string"
      ? Date.parse(value.resets_at)
      : typeof value.resets_at === "number"
      ? (value.resets_at < 1e11 ? value.resets_at * 1000 : value.resets_at)
      : NaN;
    windows.push({
      name,
      utilization: value.utilization / 100,
      resets_at: Number.isFinite(reset) ? reset : null,
      status: null,
    });
  }
  return windows;
}

function summarize(poll: OauthPoll) {
  return {
    ts: poll.ts,
    ok: poll.ok,
    http_status: poll.http_status,
    error: poll.error,
    windows: parseUsageWindows(poll.body),
  };
}

export class UsagePoller {
  #options: UsagePollOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nextAt: number | null = null;
  #running: Promise<OauthPoll | null> | null = null;
  #abort = new AbortController();
  #stopped = false;
  #started = false;

  constructor(options: UsagePollOptions) {
    this.#options = options;
  }

  /** Why the poll is off, or null when it runs. */
  disabledReason(): string | null {
    if (this.#options.intervalMs === 0) return "off: HERO_ORCHESTRATOR_USAGE_POLL_MS is 0";
    if (!this.#options.credentials.oauth()) {
      return "off: no OAuth credential (CLAUDE_CODE_OAUTH_TOKEN or .credentials.json); the usage endpoint needs one";
    }
    return null;
  }

  /** Starts polling (no-op with an interval of 0). */
  start(): void {
    if (this.#started || this.#options.intervalMs === 0) return;
    this.#started = true;
    this.#schedule(this.#options.firstDelayMs ?? 2_000);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#nextAt = Date.now() + delay;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      await this.pollNow().catch(() => null);
      this.#schedule(this.#options.intervalMs);
    }, delay);
  }

  /** Polls once now (null when the poll is off). Never throws; failures are stored readings. */
  pollNow(): Promise<OauthPoll | null> {
    this.#running ??= this.#poll().finally(() => (this.#running = null));
    return this.#running;
  }

  async #poll(): Promise<OauthPoll | null> {
    const credential = this.#options.credentials.oauth();
    if (!credential || this.#stopped) return null;
    const ts = Date.now();
    let poll: Omit<OauthPoll, "id">;
    try {
      const response = await fetch(this.#options.url, {
        headers: {
          authorization: `Bearer ${credential.value}`,
          "anthropic-beta": "oauth-2025-04-20",
          "user-agent": CLAUDE_CODE_UA,
          accept: "application/json",
        },
        redirect: "manual",
        signal: AbortSignal.any([
          this.#abort.signal,
          AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
        ]),
      });
      const text = await response.text();
      const body = text.length > 65_536 ? text.slice(0, 65_536) : text;
      poll = {
        ts,
        ok: response.ok,
        http_status: response.status,
        body,
        error: response.ok ? null : `HTTP ${response.status}`,
      };
    } catch (err) {
      poll = {
        ts,
        ok: false,
        http_status: null,
        body: null,
        error: err instanceof Error ? err.message : String(err),
      };
    }
    if (!poll.ok) {
      this.#options.log("warn", "OAuth usage poll failed", {
        url: escapeControl(this.#options.url),
        status: poll.http_status,
        error: escapeControl(poll.error ?? ""),
      });
    }
    if (this.#stopped) return null;
    const id = this.#options.store.recordOauthPoll(poll);
    return { id, ...poll };
  }

  /** The poll's state and its newest readings. */
  status(): UsagePollStatus {
    const base = {
      url: this.#options.url,
      interval_ms: this.#options.intervalMs,
      next_at: this.#timer !== undefined ? this.#nextAt : null,
    };
    const last = this.#options.store.latestOauthPoll(false);
    const lastOk = last && !last.ok ? this.#options.store.latestOauthPoll(true) : undefined;
    const readings = {
      last: last ? summarize(last) : null,
      last_ok: lastOk ? { ts: lastOk.ts, windows: parseUsageWindows(lastOk.body) } : null,
    };
    const disabled = this.disabledReason();
    if (disabled) return { status: "disabled", detail: disabled, ...base, ...readings };
    if (!last) return { status: "pending", detail: null, ...base, ...readings };
    return {
      status: last.ok ? "ok" : "error",
      detail: last.ok ? null : last.error,
      ...base,
      ...readings,
    };
  }

  /** Stops polling and aborts a poll in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running?.catch(() => null);
  }
}
