/**
 * `hero_orchestrator login`: runs `claude auth login` attached to the terminal, then reports the
 * result through `claude auth status`. Refuses without a terminal: the login waits for a pasted
 * code forever otherwise.
 * @module
 */
import { resolveEngineSettings } from "@hero/core/config";
import { authStatus } from "../claude.ts";
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";
import { UsageError } from "../fail.ts";
import type { CredentialStatus } from "@hero/sdk";

/** Reads a key from a pipe, or from the terminal without echo. */
async function readKey(ctx: CliContext): Promise<string> {
  if (!ctx.stdinIsTerminal) {
    const text = await ctx.readStdin();
    const key = text.trim();
    if (key === "") throw new LoginError("Cannot store the API key: stdin was empty");
    return key;
  }
  ctx.stderr.write("Anthropic API key (input hidden): ");
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  try {
    const buf = new Uint8Array(1);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const b = buf[0]!;
      if (b === 3) throw new LoginError("Cannot store the API key: interrupted");
      if (b === 13 || b === 10) break;
      if (b === 127 || b === 8) bytes.pop();
      else bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    ctx.stderr.write("\n");
  }
  const key = new TextDecoder().decode(new Uint8Array(bytes)).trim();
  if (key === "") throw new LoginError("Cannot store the API key: nothing was typed");
  return key;
}

/** Stores (or removes) the key with the server and says which credential is now in force. */
async function storeKey(ctx: CliContext, key: string | null): Promise<number> {
  const status: CredentialStatus = await ctx.client().credential.setApiKey({ api_key: key });
  const c = ctx.color;
  if (key === null) {
    ctx.stdout.write(`${c.green("✓")} the stored API key is removed\n`);
  } else {
    ctx.stdout.write(
      `${c.green("✓")} API key stored in ${status.api_key_file} (mode 0600)\n`,
    );
  }
  ctx.stdout.write(`  ${describeCredential(status)}\n`);
  if (key !== null && status.source !== status.api_key_file) {
    ctx.stdout.write(
      `${
        c.yellow("!")
      } the server uses ${status.source} first; unset it in the server's environment to use the stored key\n`,
    );
  }
  return 0;
}

/** One line: which credential the server's agents use. */
export function describeCredential(status: CredentialStatus): string {
  if (status.kind === null) {
    return `agents have no credential: ${status.detail ?? "none configured"}`;
  }
  const what = status.kind === "api_key"
    ? "an API key"
    : status.kind === "oauth"
    ? "a subscription login (OAuth)"
    : "a bearer token";
  const how = status.proxy_scope === "all"
    ? "injected by the quota proxy; agents never see it"
    : status.proxy_scope === "shadows_only"
    ? "shadows through the quota proxy, other agents get it in their environment"
    : "agents get it in their environment";
  return `agents use ${what} from ${status.source} (${how})`;
}

const USAGE = `Usage: hero_orchestrator login [--console | --sso] [--email ADDRESS]
       hero_orchestrator login --api-key          (the key on stdin, or typed at a prompt)
       hero_orchestrator login --remove-api-key

Signs the claude CLI in (\`claude auth login\`, attached to this terminal), then checks the result
with \`claude auth status\`. Needs a terminal on stdin and stdout. Log in as the user the server
runs as (and with the same CLAUDE_CONFIG_DIR).

With --api-key, stores an Anthropic API key with the running server instead (mode 0600 in its
state directory, or HERO_ORCHESTRATOR_API_KEY_FILE): agents use it from their next request; the
quota proxy injects it, so agents never see it. The key is read from stdin or typed at a prompt
that does not echo, never taken from the command line (any user can read a command line).
  --console         sign in with an Anthropic Console account (API billing) instead of claude.ai
  --sso             sign in through single sign-on
  --email ADDRESS   pre-fill the e-mail address
  --api-key         store an API key with the server (read from stdin or a prompt)
  --remove-api-key  remove the stored API key
  -h, --help        print this help`;

/** The login could not start or did not succeed. */
export class LoginError extends Error {
  override name = "LoginError";
}

export const login: Command = {
  name: "login",
  summary: "sign the claude CLI in (needs a terminal)",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    if (args.some((a) => a === "--api-key" || a.startsWith("--api-key="))) {
      // Checked before parsing: a usage error would echo the key it found on the command line.
      if (args.length !== 1 || args[0] !== "--api-key") {
        throw new UsageError(
          "--api-key takes no value and no other argument: pipe the key on stdin (`login --api-key < keyfile`) or type it at the prompt; a key on the command line is visible to every user",
          "login",
        );
      }
      return await storeKey(ctx, await readKey(ctx));
    }
    const { values } = parseCommandArgs("login", args, {
      console: { type: "boolean" },
      sso: { type: "boolean" },
      email: { type: "string" },
      "remove-api-key": { type: "boolean" },
    }, { min: 0, max: 0, names: "" });
    if (values["remove-api-key"]) return await storeKey(ctx, null);
    if (!ctx.stdinIsTerminal || !ctx.stdout.isTerminal) {
      throw new LoginError(
        "Cannot log in: no terminal (stdin and stdout must be a TTY, `claude auth login` waits for a pasted code); " +
          "run it in a terminal, or mint a token with `claude setup-token` there and set CLAUDE_CODE_OAUTH_TOKEN",
      );
    }
    const bin = resolveEngineSettings(ctx.env).claude.bin;
    const loginArgs = ["auth", "login"];
    if (values.console) loginArgs.push("--console");
    if (values.sso) loginArgs.push("--sso");
    if (values.email) loginArgs.push("--email", values.email);
    let code: number;
    try {
      const child = new Deno.Command(bin, {
        args: loginArgs,
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
      code = (await child.status).code;
    } catch (err) {
      throw new LoginError(`Cannot run \`${bin} auth login\``, { cause: err });
    }
    const status = await authStatus(bin);
    const c = ctx.color;
    if (status.loggedIn) {
      const how = [status.method, status.subscription].filter(Boolean).join(", ");
      ctx.stdout.write(`${c.green("✓")} logged in${how ? ` (${how})` : ""}\n`);
      if (status.apiKeySource === "ANTHROPIC_API_KEY") {
        ctx.stdout.write(
          `${c.yellow("!")} ANTHROPIC_API_KEY is set here and overrides this login; unset it\n`,
        );
      }
      return 0;
    }
    throw new LoginError(
      `Cannot confirm the login: \`${bin} auth login\` exited ${code} and \`claude auth status\` reports no credentials` +
        (status.error ? ` (${status.error})` : ""),
    );
  },
};
