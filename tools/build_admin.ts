/**
 * `deno task build:admin`: bundles the admin's browser code with `deno bundle` (esbuild inside,
 * Deno's own resolver: workspace names, npm imports, Preact JSX) into `admin/dist/`:
 * `boot.js`, `islands/<name>.js` and shared `chunk-*.js` files (code splitting, minified), plus
 * the static files of `admin/web/static/` (`app.css`, `favicon.svg`), and the embeddable widget
 * `widget/hero-agent-widget.js` (its own bundle: one classic script, no imports, no Preact). Fails
 * when the output holds more than one copy of Preact (two copies break hooks and signals).
 * @module
 */
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const web = `${root}admin/web`;

/**
 * Preact core's non-dimensional CSS property regex: present exactly once per copy of Preact,
 * minified or not (a copy of it is a copy of Preact's DOM diffing).
 */
export const PREACT_MARKER = "acit|ex(?:s|g|n|p|$)|rph";

/** How many copies of Preact the `.js` files under `dir` hold. */
export async function countPreactCopies(dir: string): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) count += await countPreactCopies(path);
    else if (entry.name.endsWith(".js")) {
      count += (await Deno.readTextFile(path)).split(PREACT_MARKER).length - 1;
    }
  }
  return count;
}

async function listIslands(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${web}/islands`)) {
    if (entry.isFile && entry.name.endsWith(".tsx") && !entry.name.endsWith("_test.tsx")) {
      names.push(`admin/web/islands/${entry.name}`);
    }
  }
  return names.sort();
}

/**
 * Builds into `outdir` (default `admin/dist`); tests build into their own temp directories so
 * parallel test files never race on one output.
 */
export async function buildAdmin(outdir = `${root}admin/dist`): Promise<void> {
  const dist = outdir.replace(/\/+$/, "");
  await Deno.remove(dist, { recursive: true }).catch(() => {});
  const entries = ["admin/web/boot.ts", ...await listIslands()];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--code-splitting",
      "--minify",
      "--outdir",
      dist,
      ...entries,
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("Cannot build the admin: deno bundle failed");
  await buildWidget(dist);
  for await (const entry of Deno.readDir(`${web}/static`)) {
    if (entry.isFile) await Deno.copyFile(`${web}/static/${entry.name}`, `${dist}/${entry.name}`);
  }
  const copies = await countPreactCopies(dist);
  if (copies !== 1) {
    throw new Error(`Cannot build the admin: ${dist} holds ${copies} copies of Preact`);
  }
}

/** The widget's entry and its output path inside the dist directory. */
export const WIDGET_ENTRY = "admin/web/widget/hero_agent_widget.ts";
export const WIDGET_OUTPUT = "widget/hero-agent-widget.js";

/**
 * Bundles `<hero-agent-widget>` alone (no code splitting, IIFE): host pages include it with a
 * plain `<script src>`, so it must not import chunks shared with the admin's islands.
 */
export async function buildWidget(dist: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=iife",
      "--minify",
      "--output",
      `${dist}/${WIDGET_OUTPUT}`,
      WIDGET_ENTRY,
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("Cannot build the widget: deno bundle failed");
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: Deno.args, options: { outdir: { type: "string" } } });
  const started = performance.now();
  const dist = values.outdir ?? `${root}admin/dist`;
  try {
    await buildAdmin(dist);
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  let bytes = 0;
  let files = 0;
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else {
        bytes += (await Deno.stat(path)).size;
        files++;
      }
    }
  }
  await walk(dist);
  console.error(
    `${dist.replace(root, "")}: ${files} files, ${(bytes / 1024).toFixed(1)} KB in ${
      Math.round(performance.now() - started)
    } ms`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
