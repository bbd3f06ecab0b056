/**
 * A vertically virtualised list with variable, measured row heights: only the rows in and near
 * the viewport are in the DOM (spacers stand in for the rest), so a transcript of any length costs
 * the same to render. Keeps the view steady when rows are added above or change height (anchor on
 * the first visible row), follows the bottom while the reader is there, and asks for older rows
 * when scrolled near the top. Keys must increase with the index (seq order).
 * @module
 */
import type { ComponentChild } from "preact";
import { useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";

/** Props of {@linkcode VirtualList}. */
export interface VirtualListProps<T> {
  items: readonly T[];
  keyOf(item: T): number;
  render(item: T): ComponentChild;
  /** Height assumed for rows not measured yet, px. */
  estimate?: number;
  /** Called when the reader is near the top (to load older rows). */
  onNearTop?(): void;
  /** Accessible name of the scroll region. */
  label: string;
  /** Rendered above the first row (e.g. "loading older lines"). */
  header?: ComponentChild;
  /** Rendered below the last row. */
  footer?: ComponentChild;
  /** Scroll this row into view once it is in `items` (a search hit). */
  scrollToKey?: number;
}

const OVERSCAN_PX = 800;
const NEAR_TOP_PX = 600;
const BOTTOM_SLACK_PX = 48;
const SCROLL_TO_MARGIN_PX = 96;

function lowerBound(offsets: Float64Array, n: number, y: number): number {
  // first i in [0, n) whose bottom (offsets[i + 1]) is below y
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1]! <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The list. */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, keyOf } = props;
  const estimate = props.estimate ?? 72;
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<number, number>());
  const atBottom = useRef(true);
  const anchor = useRef<{ key: number; delta: number } | null>(null);
  const layout = useRef<{ offsets: Float64Array; keys: number[] }>({
    offsets: new Float64Array(1),
    keys: [],
  });
  const [view, setView] = useState(() => ({ top: 0, height: globalThis.innerHeight || 900 }));
  const [, remeasure] = useReducer((x: number) => x + 1, 0);
  const observer = useRef<ResizeObserver | null>(null);

  const n = items.length;
  const keys = new Array<number>(n);
  const offsets = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const key = keyOf(items[i]!);
    keys[i] = key;
    offsets[i + 1] = offsets[i]! + (heights.current.get(key) ?? estimate);
  }
  layout.current = { offsets, keys };
  const total = offsets[n]!;
  // While following the bottom, lay out from the bottom: no pass over rows about to scroll away.
  const top = atBottom.current ? Math.max(0, total - view.height) : view.top;
  const start = lowerBound(offsets, n, Math.max(0, top - OVERSCAN_PX));
  let end = start;
  const limit = top + view.height + OVERSCAN_PX;
  while (end < n && offsets[end]! < limit) end++;

  function indexOfKey(key: number): number {
    const ks = layout.current.keys;
    let lo = 0;
    let hi = ks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ks[mid] === key) return mid;
      if (ks[mid]! < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  function captureAnchor(el: HTMLDivElement): void {
    const { offsets, keys } = layout.current;
    const top = el.scrollTop;
    const i = lowerBound(offsets, keys.length, top);
    anchor.current = i < keys.length ? { key: keys[i]!, delta: top - offsets[i]! } : null;
  }

  function measure(): boolean {
    const el = scroller.current;
    if (!el) return false;
    let changed = false;
    for (const row of el.querySelectorAll<HTMLElement>(":scope > .vrow")) {
      const key = Number(row.dataset.key);
      const h = row.offsetHeight;
      if (h > 0 && heights.current.get(key) !== h) {
        heights.current.set(key, h);
        changed = true;
      }
    }
    return changed;
  }

  // After every render: measure the rows, then put the reader back where they were.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (measure()) {
      remeasure(0);
      return;
    }
    if (atBottom.current) {
      const target = el.scrollHeight - el.clientHeight;
      if (Math.abs(el.scrollTop - target) > 1) el.scrollTop = target;
    } else if (anchor.current) {
      const i = indexOfKey(anchor.current.key);
      if (i >= 0) {
        const target = layout.current.offsets[i]! + anchor.current.delta;
        if (Math.abs(el.scrollTop - target) > 1) el.scrollTop = target;
      }
    }
    const top = el.scrollTop;
    if (Math.abs(top - view.top) > 1 || el.clientHeight !== view.height) {
      setView({ top, height: el.clientHeight });
    }
  });

  // Rows that change height later (a <details> opened, fonts) are re-measured.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => {
      if (measure()) remeasure(0);
      else if (el.clientHeight !== view.height) {
        setView({ top: el.scrollTop, height: el.clientHeight });
      }
    });
    observer.current = ro;
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = scroller.current;
    const ro = observer.current;
    if (!el || !ro) return;
    ro.disconnect();
    ro.observe(el);
    for (const row of el.querySelectorAll<HTMLElement>(":scope > .vrow")) ro.observe(row);
  });

  // A row asked for by key: anchor on it (the anchor keeps it in place while rows get measured).
  const scrolledTo = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = scroller.current;
    const key = props.scrollToKey;
    if (!el || key === undefined || scrolledTo.current === key) return;
    const i = indexOfKey(key);
    if (i < 0) return;
    scrolledTo.current = key;
    atBottom.current = false;
    anchor.current = { key, delta: -SCROLL_TO_MARGIN_PX };
    el.scrollTop = Math.max(0, layout.current.offsets[i]! - SCROLL_TO_MARGIN_PX);
    setView({ top: el.scrollTop, height: el.clientHeight });
  });

  function onScroll(e: Event): void {
    const el = e.currentTarget as HTMLDivElement;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    captureAnchor(el);
    setView({ top: el.scrollTop, height: el.clientHeight });
    if (el.scrollTop < NEAR_TOP_PX) props.onNearTop?.();
  }

  return (
    <div
      ref={scroller}
      class="vlist"
      tabIndex={0}
      role="log"
      aria-label={props.label}
      onScroll={onScroll}
      data-rows={n}
      data-first-key={n > 0 ? keys[0] : undefined}
      data-last-key={n > 0 ? keys[n - 1] : undefined}
    >
      {props.header ? <div class="vlist-overlay">{props.header}</div> : null}
      <div class="vlist-spacer" style={{ height: `${offsets[start]}px` }} />
      {items.slice(start, end).map((item, k) => (
        <div class="vrow" key={keys[start + k]} data-key={keys[start + k]}>
          {props.render(item)}
        </div>
      ))}
      <div class="vlist-spacer" style={{ height: `${total - offsets[end]!}px` }} />
      {props.footer}
    </div>
  );
}
