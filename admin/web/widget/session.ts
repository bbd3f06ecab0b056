/**
 * The widget's per-tab state in `sessionStorage`, one key per home service: two widgets with
 * different `home-mcp` values, or two tabs, never share a conversation. Only ids, drafts and
 * flags live here; the transcript itself is always read back from the server.
 * @module
 */

/** A prompt the user sent after the first one (the first is the agent's own `prompt`). */
export interface Turn {
  /** The agent's `last_seq` when it was sent: the turn is shown after that line. */
  afterSeq: number;
  text: string;
  voice: boolean;
}

/** Everything restored on reload. */
export interface SessionState {
  agentId: string | null;
  /** The composer's draft (no agent yet, or starting a new one). */
  draft: string;
  /** The follow-up row's draft. */
  followDraft: string;
  open: boolean;
  /** The agent's first prompt was spoken. */
  firstVoice: boolean;
  turns: Turn[];
  model: string | null;
  effort: string | null;
  /** When the running turn was sent (epoch ms), for the elapsed time. */
  turnStartedAt: number | null;
}

/** The state of a widget that never ran anything. */
export function emptyState(): SessionState {
  return {
    agentId: null,
    draft: "",
    followDraft: "",
    open: false,
    firstVoice: false,
    turns: [],
    model: null,
    effort: null,
    turnStartedAt: null,
  };
}

/** The storage key of one home service. */
export function stateKey(homeMcp: string): string {
  return `hero-agent-widget:v1:${homeMcp}`;
}

const MAX_TURNS = 200;
const MAX_TEXT = 100_000;

function str(v: unknown, max = MAX_TEXT): string | null {
  return typeof v === "string" && v.length <= max ? v : null;
}

/** Reads the state (anything malformed, or no storage at all, gives the empty state). */
export function loadState(storage: Storage | null, homeMcp: string): SessionState {
  const state = emptyState();
  let raw: string | null = null;
  try {
    raw = storage?.getItem(stateKey(homeMcp)) ?? null;
  } catch {
    return state;
  }
  if (raw === null) return state;
  let v: Record<string, unknown>;
  try {
    const parsed = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return state;
    v = parsed;
  } catch {
    return state;
  }
  const id = str(v.agentId, 64);
  state.agentId = id !== null && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
  state.draft = str(v.draft) ?? "";
  state.followDraft = str(v.followDraft) ?? "";
  state.open = v.open === true;
  state.firstVoice = v.firstVoice === true;
  state.model = str(v.model, 200);
  state.effort = str(v.effort, 20);
  state.turnStartedAt = Number.isSafeInteger(v.turnStartedAt) ? v.turnStartedAt as number : null;
  if (Array.isArray(v.turns)) {
    for (const t of v.turns.slice(-MAX_TURNS)) {
      if (typeof t !== "object" || t === null) continue;
      const text = str((t as Turn).text);
      const afterSeq = (t as Turn).afterSeq;
      if (text === null || !Number.isSafeInteger(afterSeq) || afterSeq < 0) continue;
      state.turns.push({ afterSeq, text, voice: (t as Turn).voice === true });
    }
  }
  return state;
}

/** Writes the state; a full or missing storage is not an error (the tab just forgets). */
export function saveState(storage: Storage | null, homeMcp: string, state: SessionState): void {
  try {
    storage?.setItem(stateKey(homeMcp), JSON.stringify(state));
  } catch {
    // quota exceeded or storage disabled
  }
}
