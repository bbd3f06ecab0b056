import assert from "node:assert/strict";
import { apiKeyProblem, CredentialSource, storeApiKey } from "./credential.ts";
import { fakePrompt } from "../testing/mod.ts";
import { waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

Deno.test("stored API key: 0600, precedence, refused when others can read it, re-read on change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_cred_" });
  try {
    const file = `${dir}/state/api_key`;
    const home = { HOME: dir };
    const source = new CredentialSource(home, { apiKeyFile: file });
    assert.equal(source.get(), null);
    assert.match(source.info().detail!, /no stored API key \(.*api_key\)/);

    assert.equal(storeApiKey(file, "sk-ant-one"), true);
    assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);
    assert.deepEqual(source.get(), {
      kind: "api_key",
      value: "sk-ant-one",
      source: file,
      expiresAt: null,
    });

    // A subscription login in the credentials file does not win over a key a person stored ...
    await Deno.mkdir(`${dir}/.claude`);
    await Deno.writeTextFile(
      `${dir}/.claude/.credentials.json`,
      JSON.stringify({ claudeAiOauth: { accessToken: "oauth-at" } }),
    );
    assert.equal(source.get()?.value, "sk-ant-one");
    // ... but ANTHROPIC_AUTH_TOKEN in the environment does (as in the CLI's own order).
    const bearer = new CredentialSource({ ...home, ANTHROPIC_AUTH_TOKEN: "at" }, {
      apiKeyFile: file,
    });
    assert.equal(bearer.get()?.source, "ANTHROPIC_AUTH_TOKEN");

    storeApiKey(file, "sk-ant-two");
    assert.equal(source.get()?.value, "sk-ant-two", "a new key is used without a restart");

    Deno.chmodSync(file, 0o644);
    assert.equal(source.storedApiKey(), null);
    assert.match(source.storedApiKeyProblem()!, /readable by others \(mode 0644\); run chmod 600 /);
    assert.equal(source.get()?.value, "oauth-at", "the login is used instead");

    assert.equal(storeApiKey(file, null), false);
    assert.equal(storeApiKey(file, null), false, "removing twice is fine");
    assert.equal(source.storedApiKey(), null);
    assert.throws(() => storeApiKey(file, "has space"), /whitespace/);
    assert.equal(apiKeyProblem("x".repeat(513)), "the key is longer than 512 characters");
    assert.equal(apiKeyProblem("ké"), "the key contains characters that are not printable ASCII");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stored API key without the proxy: a direct child gets it as ANTHROPIC_API_KEY", async () => {
  await withEngine({ env: { HERO_ORCHESTRATOR_PROXY_SCOPE: "off" } }, async (h) => {
    storeApiKey(h.engine.paths.apiKeyFile, "sk-ant-direct");
    const record = `${h.cwd}/record.json`; // inside the sandbox only the cwd is writable
    const agent = h.engine.supervisor.create({
      prompt: fakePrompt({ auto: true, steps: [{ record }] }),
      cwd: h.cwd,
    });
    await waitForStatus(h, agent.id, "awaiting_review");
    const env = JSON.parse(await waitFor("the record", () => Deno.readTextFile(record))).env;
    assert.equal(env.ANTHROPIC_API_KEY, "sk-ant-direct");
  });
});
