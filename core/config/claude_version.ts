/**
 * The claude CLI version this service is tested against: `deno task test` installs it, `doctor`
 * compares the local CLI with it, the fake CLI and the usage poll's User-Agent impersonate it.
 * A leaf module (no imports) so that the fake CLI and build tools can import it cheaply.
 * @module
 */

/** The claude CLI version the suite runs against (`npm install -g @anthropic-ai/claude-code@…`). */
export const TESTED_CLAUDE_VERSION = "2.1.328";
