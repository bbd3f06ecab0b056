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

const USAGE = `Usage: hero_orchestrator login [--console | --sso] [--email ADDRESS]

Signs the claude CLI in (\`claude auth login\`, attached to this terminal), then checks the result
with \`claude auth status\`. Needs a terminal on stdin and stdout. Log in as the user the server
runs as (and with the same CLAUDE_CONFIG_DIR).
  --console        sign in with an Anthropic Console account (API billing) instead of claude.ai
  --sso            sign in through single sign-on
  --email ADDRESS  pre-fill the e-mail address
  -h, --help       print this help`;

/** The login could not start or did not succeed. */
export class LoginError extends Error {
  override name = "LoginError";
}

export const login: Command = {
  name: "login",
  summary: "sign the claude CLI in (needs a terminal)",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseCommandArgs("login", args, {
      console: { type: "boolean" },
      sso: { type: "boolean" },
      email: { type: "string" },
    }, { min: 0, max: 0, names: "" });
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
