/**
 * The page's URL prefix (hero_router's `X-Forwarded-Prefix`, written into
 * `<meta name="hero-base">` by the server): every link, RPC call and the event stream start here.
 * @module
 */

let cached: string | null = null;

/** `""` at the root, `/hero_orchestrator/admin` behind the router. */
export function base(): string {
  if (cached === null) {
    const meta = document.querySelector<HTMLMetaElement>('meta[name="hero-base"]');
    cached = (meta?.content ?? "").replace(/\/+$/, "");
  }
  return cached;
}

/** An absolute-path URL under the prefix: `href("/agents/x")`. */
export function href(path: string): string {
  return `${base()}${path}`;
}

/** The agent page URL. */
export function agentHref(id: string): string {
  return href(`/agents/${encodeURIComponent(id)}`);
}
