/**
 * `deno task check:drift`: regenerates `openrpc.json` and `sdk/gen/*` in memory and compares them
 * with the committed files. Exit 1 (listing the stale files) on any difference.
 * @module
 */
import { renderOpenrpc } from "./gen_openrpc.ts";
import { generateSdk } from "./gen_sdk.ts";

/** Paths (relative to the repository root) whose committed text differs from a fresh generation. */
export async function findDrift(root = new URL("..", import.meta.url).pathname): Promise<string[]> {
  const openrpc = await renderOpenrpc();
  const expected: Record<string, string> = {
    "openrpc.json": openrpc,
    ...(await generateSdk(openrpc)),
  };
  const stale: string[] = [];
  for (const [path, text] of Object.entries(expected)) {
    let committed: string | null = null;
    try {
      committed = await Deno.readTextFile(`${root}${path}`);
    } catch {
      committed = null;
    }
    if (committed !== text) stale.push(path);
  }
  return stale;
}

if (import.meta.main) {
  const stale = await findDrift();
  if (stale.length > 0) {
    console.error(
      `Generated files are out of date (run \`deno task gen\`):\n  ${stale.join("\n  ")}`,
    );
    Deno.exit(1);
  }
  console.error("openrpc.json and sdk/gen are up to date");
}
