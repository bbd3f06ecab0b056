/**
 * Renders agent Markdown as DOM built from text nodes only: the tree comes from
 * `lib/markdown.ts`, every string is cleaned of terminal escapes and bidi controls first, and
 * nothing is ever set as HTML. Links open in a new tab without referrer; images are shown as a
 * labelled link (never loaded). Text too long for Markdown is shown wrapped as plain text.
 * @module
 */
import type { ComponentChild, JSX } from "preact";
import { type Block, type Inline, parseMarkdown } from "../lib/markdown.ts";
import { cleanText } from "../lib/sanitize.ts";

/** Longer text is shown as plain, wrapped text (bounded main-thread work). */
export const MARKDOWN_MAX_CHARS = 60_000;

function inlines(nodes: Inline[]): ComponentChild[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case "text":
        return n.v;
      case "code":
        return <code key={i}>{n.v}</code>;
      case "em":
        return <em key={i}>{inlines(n.c)}</em>;
      case "strong":
        return <strong key={i}>{inlines(n.c)}</strong>;
      case "del":
        return <del key={i}>{inlines(n.c)}</del>;
      case "br":
        return <br key={i} />;
      case "link":
        return n.href
          ? (
            <a
              key={i}
              href={n.href}
              target="_blank"
              rel="noopener noreferrer nofollow"
              title={n.url}
            >
              {inlines(n.c)}
            </a>
          )
          : (
            <span key={i} class="md-badlink" title={`Link not opened: ${n.url}`}>
              {inlines(n.c)}
            </span>
          );
      case "image":
        return (
          <span key={i} class="md-image" title={`Image not loaded: ${n.url}`}>
            <span aria-hidden="true">▣</span> {n.alt || "image"}
            {n.href
              ? (
                <>
                  {" ("}
                  <span class="md-url">{n.url}</span>
                  {")"}
                </>
              )
              : null}
          </span>
        );
    }
  });
}

function blocks(nodes: Block[]): JSX.Element[] {
  return nodes.map((b, i) => {
    switch (b.t) {
      case "p":
        return <p key={i}>{inlines(b.c)}</p>;
      case "h": {
        const level = Math.min(6, b.level + 2);
        const Tag = `h${level}` as "h3";
        return <Tag key={i} class={`md-h md-h${b.level}`}>{inlines(b.c)}</Tag>;
      }
      case "pre":
        return (
          <pre key={i} class="md-code" data-lang={b.lang || undefined}>
            <code>{b.v}</code>
          </pre>
        );
      case "list":
        return b.ordered
          ? (
            <ol key={i} start={b.start}>
              {b.items.map((item, k) => <li key={k}>{blocks(item)}</li>)}
            </ol>
          )
          : <ul key={i}>{b.items.map((item, k) => <li key={k}>{blocks(item)}</li>)}</ul>;
      case "quote":
        return <blockquote key={i}>{blocks(b.c)}</blockquote>;
      case "hr":
        return <hr key={i} />;
      case "table":
        return (
          <div key={i} class="md-table-wrap">
            <table>
              <thead>
                <tr>
                  {b.head.map((cell, k) => (
                    <th key={k} class={b.align[k] ? `align-${b.align[k]}` : undefined}>
                      {inlines(cell)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {b.rows.map((row, r) => (
                  <tr key={r}>
                    {row.map((cell, k) => (
                      <td key={k} class={b.align[k] ? `align-${b.align[k]}` : undefined}>
                        {inlines(cell)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
    }
  });
}

/** Agent Markdown, safely. */
export function Markdown({ text }: { text: string }) {
  const clean = cleanText(text);
  if (clean.length > MARKDOWN_MAX_CHARS) {
    return <div class="md md-plain">{clean}</div>;
  }
  return <div class="md">{blocks(parseMarkdown(clean))}</div>;
}
