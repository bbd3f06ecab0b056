/**
 * The widget's CSS, adopted by its shadow root (a constructed stylesheet: no `<style>` element, so
 * a host page's `style-src` policy does not block it). `:host { all: initial }` stops the page's
 * inherited styles at the element; nothing here can reach the page.
 * @module
 */
export const WIDGET_CSS = `
:host {
  all: initial;
  display: inline-block;
  position: relative;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328;
  --bg: #ffffff;
  --fg: #1f2328;
  --muted: #59636e;
  --line: #d1d9e0;
  --soft: #f6f8fa;
  --accent: #0969da;
  --accent-fg: #ffffff;
  --danger: #cf222e;
  --ok: #1a7f37;
  --warn: #9a6700;
}
@media (prefers-color-scheme: dark) {
  :host {
    color: #e6edf3;
    --bg: #161b22;
    --fg: #e6edf3;
    --muted: #9198a1;
    --line: #3d444d;
    --soft: #212830;
    --accent: #4493f8;
    --accent-fg: #0d1117;
    --danger: #f85149;
    --ok: #3fb950;
    --warn: #d29922;
  }
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, select, textarea { font: inherit; color: inherit; }
button {
  cursor: pointer;
  border: 1px solid var(--line);
  background: var(--soft);
  border-radius: 6px;
  padding: 4px 10px;
  line-height: 1.4;
}
button:hover:not(:disabled) { border-color: var(--muted); }
button:disabled { cursor: not-allowed; opacity: 0.55; }
button:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 2px solid var(--accent);
  outline-offset: 1px;
}
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button.danger { color: var(--danger); }
.invalid {
  margin: 0;
  padding: 4px 8px;
  border: 1px solid var(--danger);
  border-radius: 6px;
  color: var(--danger);
  background: var(--bg);
  font-size: 13px;
}
.launcher { display: inline-flex; align-items: center; gap: 6px; background: var(--bg); }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); flex: none; }
[data-status="queued"] .dot, .dot[data-status="queued"] { background: var(--warn); }
[data-status="running"] .dot, .dot[data-status="running"] { background: var(--accent); }
[data-status="awaiting_review"] .dot, .dot[data-status="awaiting_review"],
[data-status="completed"] .dot, .dot[data-status="completed"] { background: var(--ok); }
[data-status="failed"] .dot, .dot[data-status="failed"] { background: var(--danger); }
.panel {
  position: absolute;
  top: calc(100% + 6px);
  right: 0;
  z-index: 2147483000;
  width: min(400px, 92vw);
  max-height: min(640px, 80vh);
  display: flex;
  flex-direction: column;
  gap: 8px;
  padding: 10px;
  background: var(--bg);
  color: var(--fg);
  border: 1px solid var(--line);
  border-radius: 10px;
  box-shadow: 0 8px 24px rgba(0, 0, 0, 0.18);
  text-align: left;
}
.head { display: flex; align-items: center; gap: 8px; }
.title { font-weight: 600; flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.close { border: none; background: none; font-size: 18px; padding: 0 6px; }
.working, .summary {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 6px 8px;
  background: var(--soft);
  border-radius: 6px;
  font-size: 13px;
}
.working .status, .summary .status { font-weight: 600; }
.working .meta, .summary .meta { color: var(--muted); font-variant-numeric: tabular-nums; flex: 1; }
.transcript {
  overflow-y: auto;
  min-height: 0;
  flex: 1 1 auto;
  display: flex;
  flex-direction: column;
  gap: 6px;
}
.transcript:empty { display: none; }
.item { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.item.user {
  align-self: flex-end;
  max-width: 88%;
  background: var(--accent);
  color: var(--accent-fg);
  padding: 4px 10px;
  border-radius: 12px 12px 2px 12px;
}
.item.user.spoken::before { content: "“"; }
.item.user.spoken::after { content: "”"; }
.item.tool, .item.tool_result, .item.notice {
  font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: var(--muted);
}
.item.tool .label { color: var(--fg); font-weight: 600; }
.item.tool_result.error, .item.error { color: var(--danger); }
.live-text {
  margin: 0;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  max-height: 160px;
  overflow-y: auto;
  border-left: 2px solid var(--accent);
  padding-left: 8px;
}
.approvals { display: flex; flex-direction: column; gap: 6px; }
.approvals:empty { display: none; }
.approval {
  border: 1px solid var(--warn);
  border-radius: 6px;
  padding: 6px 8px;
  display: flex;
  flex-direction: column;
  gap: 4px;
  font-size: 13px;
}
.approval .ask { font-weight: 600; }
.approval .note { color: var(--muted); }
.approval code {
  font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  max-height: 120px;
  overflow-y: auto;
}
.error-line { margin: 0; color: var(--danger); font-size: 13px; }
.fix-line { margin: 0; color: var(--text); font-size: 12.5px; }
.voice-line { margin: 0; color: var(--muted); font-size: 12px; font-style: italic; }
form { display: flex; flex-direction: column; gap: 6px; margin: 0; }
textarea {
  width: 100%;
  min-height: 64px;
  max-height: 200px;
  resize: vertical;
  padding: 6px 8px;
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--bg);
}
.row { display: flex; align-items: center; gap: 6px; }
.row .grow { flex: 1; }
select {
  padding: 3px 4px;
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--bg);
  min-width: 0;
}
select[name="model"] { max-width: 150px; }
select[name="effort"] { max-width: 90px; }
.voice {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  width: 30px;
  height: 28px;
  padding: 0;
}
.voice svg { width: 18px; height: 18px; fill: none; stroke: currentColor; stroke-width: 2; }
.voice[data-voice="listening"] { color: var(--danger); border-color: var(--danger); }
.voice[data-voice="speaking"], .voice[data-voice="waiting"], .voice[data-voice="sending"] {
  color: var(--accent);
  border-color: var(--accent);
}
`;
