/**
 * `deno task check:imports`: the dependency direction between workspace members and rooms,
 * enforced by a tool instead of review. Walks every source file under the repository root (minus
 * the root `deno.json` `exclude` list, dot-directories and `node_modules`), reads its import and
 * export-from specifiers and `import("…")` literals ({@linkcode findImports}), resolves relative
 * paths and `@hero/*` names (through the member's `deno.json` `exports`) to a file and its
 * workspace member, and checks them against {@linkcode RULES}. Exit 1 listing
 * `path:line: [rule] message` for each violation.
 *
 * Rules in {@linkcode PENDING_RULES} are implemented but not enforced until the code they
 * describe has landed: `--all` (or `--rule <id>`) checks them anyway, to see what is left.
 *
 * ```sh
 * deno run --allow-read tools/check_imports.ts [--all] [--rule <id>]... [root]
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { findImports } from "./import_specifiers.ts";

/** A workspace member: its directory (relative, no trailing slash; "" for the root) and name. */
export interface Member {
  dir: string;
  name: string | null;
  /** `deno.json` `exports`, normalised to an object ("." for a string). */
  exports: Record<string, string>;
}

/** Where an import points. */
export interface Target {
  /** Repository-relative path of the file, or null when the specifier names no known file. */
  path: string | null;
  member: Member;
  relative: boolean;
}

/** An import-direction rule: `forbids(from, to)` is true when the import breaks it. */
export interface Rule {
  id: string;
  /** Says what is forbidden, for the report. */
  message: string;
  forbids(from: { path: string; member: Member }, to: Target): boolean;
}

/** One broken rule. */
export interface Violation {
  path: string;
  line: number;
  rule: string;
  specifier: string;
  message: string;
}

const APPS = new Set(["server", "admin", "admin/web", "cli"]);

function under(path: string | null, dir: string): boolean {
  return path !== null && (path === dir || path.startsWith(`${dir}/`));
}

/** Every rule, enforced or pending. */
export const RULES: readonly Rule[] = [
  {
    id: "core-imports-no-app",
    message: "core must not import server, admin or cli",
    forbids: (from, to) => from.member.dir === "core" && APPS.has(to.member.dir),
  },
  {
    id: "sdk-imports-nothing-ours",
    message: "sdk must not import anything of ours outside sdk/",
    forbids: (from, to) => from.member.dir === "sdk" && to.member.dir !== "sdk",
  },
  {
    id: "admin-web-imports-only-sdk",
    message: "admin/web (browser code) may import only @hero/sdk of ours",
    forbids: (from, to) =>
      from.member.dir === "admin/web" && to.member.dir !== "admin/web" && to.member.dir !== "sdk",
  },
  {
    id: "service-imports-nothing-ours",
    message: "service must not import anything of ours outside service/",
    forbids: (from, to) => from.member.dir === "service" && to.member.dir !== "service",
  },
  {
    id: "cross-member-by-name",
    message: "import another workspace member by its @hero/* name, not by a relative path",
    // The root package (bench/, docs/, deno.json) has no name to import it by.
    forbids: (from, to) =>
      to.relative && to.member.dir !== from.member.dir && to.member.name !== null,
  },
  {
    id: "supervisor-imports-no-shadow-proxy",
    message: "core/supervisor must not import core/shadow or core/proxy (the engine wires them)",
    forbids: (from, to) =>
      under(from.path, "core/supervisor") &&
      (under(to.path, "core/shadow") || under(to.path, "core/proxy")),
  },
  {
    id: "shadow-proxy-imports-no-supervisor",
    message:
      "core/shadow and core/proxy must not import core/supervisor (a narrow interface instead)",
    forbids: (from, to) =>
      (under(from.path, "core/shadow") || under(from.path, "core/proxy")) &&
      under(to.path, "core/supervisor"),
  },
];

/**
 * Rules implemented but not enforced yet; remove an id here to switch its rule on. None today:
 * the supervisor split and the engine harness's move to core/engine let both directions between
 * core/supervisor and core/shadow|proxy be enforced.
 */
export const PENDING_RULES: readonly string[] = [];

/** The ids enforced by default. */
export function enforcedRules(): string[] {
  return RULES.map((r) => r.id).filter((id) => !PENDING_RULES.includes(id));
}

const SOURCE = /\.(ts|tsx|mts|js|jsx|mjs)$/;

function normalize(path: string): string | null {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return null; // outside the repository
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/");
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? "" : path.slice(0, i);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${err instanceof Error ? err.message : err}`);
  }
}

/** The workspace: the root package ("") and every member listed in the root `deno.json`. */
export async function readWorkspace(
  root: string,
): Promise<{ members: Member[]; exclude: string[]; imports: Record<string, string> }> {
  const config = await readJson(`${root}/deno.json`);
  const members: Member[] = [{ dir: "", name: null, exports: {} }];
  for (const entry of (config.workspace as string[] | undefined) ?? []) {
    const dir = normalize(entry);
    if (dir === null || dir === "") continue;
    const own = await readJson(`${root}/${dir}/deno.json`);
    const raw = own.exports;
    const exports: Record<string, string> = typeof raw === "string"
      ? { ".": raw }
      : (raw as Record<string, string> | undefined) ?? {};
    members.push({ dir, name: typeof own.name === "string" ? own.name : null, exports });
  }
  const exclude = ((config.exclude as string[] | undefined) ?? []).map((p) => normalize(p) ?? p);
  const imports = (config.imports as Record<string, string> | undefined) ?? {};
  return { members, exclude, imports };
}

/** The member owning `path` (the longest member directory containing it). */
export function memberOf(members: readonly Member[], path: string): Member {
  let best = members[0]!;
  for (const m of members) {
    if (m.dir !== "" && under(path, m.dir) && m.dir.length > best.dir.length) best = m;
  }
  return best;
}

/** Resolves `specifier` imported from `from`; null for anything not ours (npm:, node:, URLs). */
export function resolveImport(
  workspace: { members: readonly Member[]; imports: Record<string, string> },
  from: string,
  specifier: string,
): Target | { unknown: string } | null {
  const { members, imports } = workspace;
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    const path = normalize(`${dirname(from)}/${specifier}`);
    if (path === null) return null;
    return { path, member: memberOf(members, path), relative: true };
  }
  // Import-map entries that point into the repository.
  for (const [key, value] of Object.entries(imports)) {
    if (!value.startsWith("./") && !value.startsWith("../")) continue;
    const hit = key.endsWith("/") ? specifier.startsWith(key) : specifier === key;
    if (!hit) continue;
    const path = normalize(value + specifier.slice(key.length));
    if (path === null) return null;
    return { path, member: memberOf(members, path), relative: false };
  }
  for (const m of members) {
    if (m.name === null) continue;
    if (specifier !== m.name && !specifier.startsWith(`${m.name}/`)) continue;
    const sub = `.${specifier.slice(m.name.length)}`;
    const target = m.exports[sub];
    if (target === undefined) return { unknown: `${m.name} has no export "${sub}"` };
    return { path: normalize(`${m.dir}/${target}`), member: m, relative: false };
  }
  if (specifier.startsWith("@hero/")) return { unknown: `no workspace member is named so` };
  return null;
}

async function* sourceFiles(root: string, dir: string, skip: Set<string>): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir === "" ? root : `${root}/${dir}`)) entries.push(e);
  entries.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const e of entries) {
    const path = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.name.startsWith(".") || e.name === "node_modules" || skip.has(path)) continue;
    if (e.isDirectory) yield* sourceFiles(root, path, skip);
    else if (e.isFile && SOURCE.test(e.name)) yield path;
  }
}

/** Result of {@linkcode checkImports}. */
export interface CheckResult {
  files: number;
  imports: number;
  rules: string[];
  violations: Violation[];
}

/** Checks every source file under `root` against the rules `options.rules` (default: enforced). */
export async function checkImports(
  root: string,
  options: { rules?: readonly string[] } = {},
): Promise<CheckResult> {
  const ids = options.rules ?? enforcedRules();
  for (const id of ids) {
    if (!RULES.some((r) => r.id === id)) throw new RangeError(`Cannot check rule "${id}": unknown`);
  }
  const rules = RULES.filter((r) => ids.includes(r.id));
  const workspace = await readWorkspace(root);
  const violations: Violation[] = [];
  let files = 0;
  let imports = 0;
  for await (const path of sourceFiles(root, "", new Set(workspace.exclude))) {
    files++;
    const member = memberOf(workspace.members, path);
    for (const site of findImports(await Deno.readTextFile(`${root}/${path}`))) {
      const target = resolveImport(workspace, path, site.specifier);
      if (target === null) continue;
      imports++;
      const at = { path, line: site.line, specifier: site.specifier };
      if ("unknown" in target) {
        violations.push({ ...at, rule: "unresolved-workspace-import", message: target.unknown });
        continue;
      }
      for (const rule of rules) {
        if (rule.forbids({ path, member }, target)) {
          violations.push({ ...at, rule: rule.id, message: rule.message });
        }
      }
    }
  }
  return { files, imports, rules: rules.map((r) => r.id), violations };
}

/** `path:line: [rule] message: "specifier"` */
export function formatViolation(v: Violation): string {
  return `${v.path}:${v.line}: [${v.rule}] ${v.message}: "${v.specifier}"`;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { all: { type: "boolean" }, rule: { type: "string", multiple: true } },
    allowPositionals: true,
  });
  const root = (positionals[0] ?? new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  const rules = values.all ? RULES.map((r) => r.id) : values.rule ?? enforcedRules();
  const result = await checkImports(root, { rules });
  for (const v of result.violations) console.error(formatViolation(v));
  const pending = RULES.map((r) => r.id).filter((id) => !result.rules.includes(id));
  const summary = `check:imports: ${result.files} files, ${result.imports} imports of ours, ` +
    `${result.violations.length} violations (rules: ${result.rules.join(", ")}` +
    `${pending.length ? `; not checked: ${pending.join(", ")}` : ""})`;
  if (result.violations.length > 0) {
    console.error(summary);
    Deno.exit(1);
  }
  console.log(summary);
}
