/** Contract types of `credential.*`: which upstream credential the service uses (never secrets). */
import { z } from "zod";

/** The longest API key `credential.set_api_key` accepts. */
export const MAX_API_KEY_CHARS = 512;

export const CredentialStatus = z.object({
  kind: z.enum(["api_key", "bearer", "oauth"]).nullable().describe(
    "how the credential in force is sent upstream; null: the service has none",
  ),
  source: z.string().nullable().describe(
    "where it comes from: ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, the stored key file, or claude's credentials file",
  ),
  expires_at: z.number().int().nullable().describe("OAuth access token expiry, epoch ms"),
  detail: z.string().nullable().describe("why there is none, when there is none"),
  api_key_file: z.string().nullable().describe("where a stored API key is kept"),
  api_key_stored: z.boolean().describe("a usable API key is stored there"),
  api_key_problem: z.string().nullable().describe(
    "why a file is there but refused (its mode, its content), with the fix",
  ),
  proxy_scope: z.enum(["shadows_only", "all", "off"]).describe(
    "which agents get the credential injected by the quota proxy (they never see it); the others get it in their environment",
  ),
}).meta({ id: "CredentialStatus" });
export type CredentialStatus = z.infer<typeof CredentialStatus>;
