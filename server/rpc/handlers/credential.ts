/** `credential.*`: which upstream credential is in force, and storing an API key. */
import type { CredentialStatus } from "@hero/core/rpc";
import { storeApiKey } from "@hero/core/proxy";
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";

function status(deps: RpcDeps): CredentialStatus {
  const { credentials, settings } = deps.engine;
  const info = credentials.info();
  return {
    ...info,
    api_key_file: credentials.apiKeyFile,
    api_key_stored: credentials.storedApiKey() !== null,
    api_key_problem: credentials.storedApiKeyProblem(),
    proxy_scope: settings.proxy.scope,
  };
}

export const credentialHandlers = handlers({
  "credential.get"(_params, deps) {
    return status(deps);
  },
  "credential.set_api_key"(params, deps) {
    const file = deps.engine.credentials.apiKeyFile;
    if (file === null) {
      throw new Error("Cannot store the API key: the service has no state directory");
    }
    storeApiKey(file, params.api_key);
    // The readiness banner should not keep saying "no credential" after a key was stored.
    void deps.readiness?.refresh().catch(() => {});
    // The key itself never reaches a log line; only that it changed, and where.
    deps.log("info", params.api_key === null ? "API key removed" : "API key stored", { file });
    return status(deps);
  },
});
