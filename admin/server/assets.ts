/**
 * The built browser assets (`admin/dist`, written by `deno task build:admin`): read once at start
 * into memory and served under `/assets/*` with an ETag. Nothing is bundled at request time.
 * @module
 */
import type { Context } from "hono";

/** One file. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  map: "application/json",
  json: "application/json",
};

function typeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf(".") + 1);
  return TYPES[ext] ?? "application/octet-stream";
}

async function etagOf(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return `"${Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

const STATIC_IMPORT = /(?:from\s*|import\s*)"(\.{1,2}\/[^"]+)"/g;

function resolveRelative(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

/** Static imports of each built module (`islands/agent.js` → `chunk-….js`), for preloading. */
export function staticImports(files: Map<string, Asset>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const decoder = new TextDecoder();
  for (const [name, file] of files) {
    if (!name.endsWith(".js")) continue;
    const deps = new Set<string>();
    for (const m of decoder.decode(file.body).matchAll(STATIC_IMPORT)) {
      const dep = resolveRelative(name, m[1]!);
      if (files.has(dep)) deps.add(dep);
    }
    graph.set(name, [...deps]);
  }
  return graph;
}

/** Asset files by path relative to the dist directory (`boot.js`, `islands/agent.js`, …). */
export class AssetStore {
  #files: Map<string, Asset>;
  #imports: Map<string, string[]>;

  constructor(files: Map<string, Asset>) {
    this.#files = files;
    this.#imports = staticImports(files);
  }

  /**
   * The modules a page with these islands loads, islands first, then their static imports
   * (transitively): what the shell announces with `<link rel="modulepreload">` so the browser
   * fetches them in parallel with `boot.js` instead of one after the other.
   */
  preloadFor(islands: string[]): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name) || !this.#files.has(name)) return;
      seen.add(name);
      out.push(name);
      for (const dep of this.#imports.get(name) ?? []) visit(dep);
    };
    for (const island of islands) visit(`islands/${island}.js`);
    return out;
  }

  /** Builds a store from in-memory files (tests). */
  static async fromFiles(
    files: Record<string, string | Uint8Array<ArrayBuffer>>,
  ): Promise<AssetStore> {
    const map = new Map<string, Asset>();
    for (const [name, content] of Object.entries(files)) {
      const body = typeof content === "string" ? new TextEncoder().encode(content) : content;
      map.set(name, { body, type: typeOf(name), etag: await etagOf(body) });
    }
    return new AssetStore(map);
  }

  /** Reads every file under `dir`; fails clearly when the build has not run. */
  static async load(dir: URL): Promise<AssetStore> {
    const files: Record<string, Uint8Array<ArrayBuffer>> = {};
    async function walk(url: URL, rel: string): Promise<void> {
      for await (const entry of Deno.readDir(url)) {
        if (entry.isDirectory) await walk(new URL(`${entry.name}/`, url), `${rel}${entry.name}/`);
        else if (entry.isFile) {
          files[`${rel}${entry.name}`] = await Deno.readFile(new URL(entry.name, url));
        }
      }
    }
    try {
      await walk(dir, "");
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error(
          `Cannot serve the admin UI: ${dir.pathname} is missing (run \`deno task build:admin\`)`,
        );
      }
      throw err;
    }
    if (!files["boot.js"] || !files["app.css"]) {
      throw new Error(
        `Cannot serve the admin UI: ${dir.pathname} has no boot.js/app.css (run \`deno task build:admin\`)`,
      );
    }
    return await AssetStore.fromFiles(files);
  }

  /** The file at `path`, if any. */
  get(path: string): Asset | undefined {
    return this.#files.get(path);
  }

  /** Every path. */
  get names(): string[] {
    return [...this.#files.keys()];
  }
}

/** The `GET /assets/*` handler; `path` is taken after `/assets/`. */
export function serveAssets(store: AssetStore) {
  return function asset(c: Context): Response {
    let path: string;
    try {
      path = decodeURIComponent(c.req.path.replace(/^.*?\/assets\//, ""));
    } catch {
      return c.text("Not found", 404);
    }
    const file = store.get(path);
    if (!file) return c.text("Not found", 404);
    return assetResponse(c, file);
  };
}

/** An asset answer, revalidated by ETag (304 when the browser's copy is current). */
export function assetResponse(
  c: Context,
  file: Asset,
): Response {
  const headers = { "content-type": file.type, etag: file.etag, "cache-control": "no-cache" };
  if (c.req.header("if-none-match") === file.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(file.body, { headers });
}
