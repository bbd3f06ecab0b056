/**
 * `deno task compile`: builds the three binaries with `deno compile -P=<set>` plus the flags
 * `tools/permissions.ts` computes for this environment, into `dist/bin/`:
 *
 * - `hero_orchestrator_server` (server/main.ts)
 * - `hero_orchestrator_admin` (admin/main.ts, with `admin/dist` embedded via `--include`)
 * - `hero_orchestrator` (cli/main.ts)
 *
 * A compiled binary cannot take permission flags at run time, and permission sets cannot expand
 * `~` (denoland/deno#23241): the paths granted are those of the environment that builds, so build
 * as the service user with the same PATH_VAR / PATH_SOCKET / HOME it runs with (lab builds on the
 * target machine). Compiling downloads the `denort` runtime from dl.deno.land on first use; where
 * that host is unreachable set `DENORT_BIN` to a denort binary of the same version.
 * @module
 */
import { parseArgs } from "node:util";
import type { Env } from "@hero/core/config";
import {
  BINARIES,
  type BinaryName,
  permissionFlags,
  REPO_ROOT,
  v8Flags,
  WRITER_WORKER,
} from "./permissions.ts";

/** Where `deno task compile` writes by default. */
export const DEFAULT_OUT_DIR = `${REPO_ROOT}/dist/bin`;

/** The `deno compile` arguments for one binary. */
export function compileArgs(binary: BinaryName, env: Env, outDir: string): string[] {
  const args = [
    "compile",
    "-q",
    `--config=${REPO_ROOT}/deno.json`,
    `-P=${binary}`,
    ...v8Flags(binary),
    ...permissionFlags(binary, env, { compiled: true }),
  ];
  if (binary === "admin") {
    // The assets are read from admin/dist next to main.ts; embed them in the binary's file system.
    args.push(`--include=${REPO_ROOT}/admin/dist`);
  }
  // A worker's module is not in the static import graph: embed it.
  if (binary === "server") args.push(`--include=${WRITER_WORKER}`);
  args.push(
    `--output=${outDir}/${BINARIES[binary].name}`,
    `${REPO_ROOT}/${BINARIES[binary].entry}`,
  );
  return args;
}

/** Result of compiling one binary. */
export interface CompileResult {
  binary: BinaryName;
  path: string;
  ok: boolean;
  /** deno compile's stderr when it failed. */
  error: string;
}

/** Compiles `binaries` (default: all three) into `outDir`. */
export async function compileAll(
  env: Env,
  options: { outDir?: string; binaries?: BinaryName[] } = {},
): Promise<CompileResult[]> {
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await Deno.mkdir(outDir, { recursive: true });
  const results: CompileResult[] = [];
  for (const binary of options.binaries ?? (Object.keys(BINARIES) as BinaryName[])) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(binary, env, outDir),
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    results.push({
      binary,
      path: `${outDir}/${BINARIES[binary].name}`,
      ok: out.success,
      error: new TextDecoder().decode(out.stderr).trim(),
    });
    if (!out.success) break;
  }
  return results;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const results = await compileAll(Deno.env.toObject(), values.out ? { outDir: values.out } : {});
  for (const r of results) {
    if (r.ok) console.log(`built ${r.path}`);
    else {
      console.error(`error: Cannot compile ${BINARIES[r.binary].name}:\n${r.error}`);
      if (/dl\.deno\.land|dns error|error sending request/.test(r.error)) {
        console.error(
          "hint: deno compile downloads the denort runtime; set DENORT_BIN to a denort binary of " +
            "this Deno version, or build where dl.deno.land is reachable",
        );
      }
      Deno.exit(1);
    }
  }
}
