/**
 * The generated SDK types and the zod contract describe the same values: each is assignable to the
 * other (checked by `deno check`; the test body only keeps the compiler honest at run time too).
 */
import assert from "node:assert/strict";
import type { z } from "zod";
import type * as Contract from "@hero/core/rpc";
import * as Models from "@hero/core/models";
import { EFFORTS as CONFIG_EFFORTS } from "@hero/core/config";
import * as Sdk from "@hero/sdk";
import { enumArrayName } from "./gen_sdk.ts";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<A, B>(_: Same<A, B>): void {}

Deno.test("SDK types and zod types are assignable both ways", () => {
  same<Sdk.Agent, Models.Agent>(true);
  same<Sdk.Message, Models.Message>(true);
  same<Sdk.AgentPage, Contract.AgentPage>(true);
  same<Sdk.MessagePage, Contract.MessagePage>(true);
  same<Sdk.SystemInfo, Contract.SystemInfo>(true);
  same<Sdk.SystemHealth, Contract.SystemHealth>(true);
  same<Sdk.DeleteResult, Contract.DeleteResult>(true);
  same<Sdk.MessageEventData, Contract.MessageEventData>(true);
  same<Sdk.AgentDeletedEventData, Contract.AgentDeletedEventData>(true);
  same<Sdk.KnownCwd, Contract.KnownCwd>(true);
  same<Sdk.KnownCwds, Contract.KnownCwds>(true);
  same<Sdk.AgentCreateParams, Contract.ParamsInput<"agent.create">>(true);
  same<Sdk.AgentListParams, Contract.ParamsInput<"agent.list">>(true);
  same<Sdk.AgentMessagesParams, Contract.ParamsInput<"agent.messages">>(true);
  same<Sdk.AgentFollowUpParams, Contract.ParamsInput<"agent.follow_up">>(true);
  same<Sdk.AgentGetParams, Contract.ParamsInput<"agent.get">>(true);
  same<Sdk.AgentCwdsParams, Contract.ParamsInput<"agent.cwds">>(true);
  same<Sdk.MethodName, Contract.MethodName>(true);
  same<Sdk.ErrorCode, keyof typeof Contract.RPC_ERRORS>(true);
  same<Sdk.AgentStatus, z.infer<typeof Models.AgentStatus>>(true);
  assert.ok(true);
});

Deno.test("the SDK uses no Deno.*, node: or zod and type-checks with the DOM library only", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const files: string[] = [];
  for (const dir of ["sdk", "sdk/gen"]) {
    for (const entry of Deno.readDirSync(`${root}${dir}`)) {
      if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        files.push(`${dir}/${entry.name}`);
      }
    }
  }
  for (const file of files) {
    const code = (await Deno.readTextFile(`${root}${file}`)).replace(
      /\/\*[\s\S]*?\*\/|\/\/.*$/gm,
      "",
    );
    assert.doesNotMatch(code, /\bDeno\.|from "node:|from "zod"|from "\.\.\//, file);
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ compilerOptions: { lib: ["dom", "dom.iterable", "esnext"], strict: true } }),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", `${dir}/deno.json`, `${root}sdk/mod.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the SDK exports every enum of the contract as a value array in contract order", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const openrpc = JSON.parse(await Deno.readTextFile(`${root}openrpc.json`)) as {
    components: { schemas: Record<string, { enum?: string[] }> };
  };
  const exported = Sdk as unknown as Record<string, unknown>;
  const enums = Object.entries(openrpc.components.schemas).filter(([, s]) => s.enum);
  assert.ok(enums.length >= 5, "the contract has its enums");
  for (const [name, schema] of enums) {
    assert.deepEqual(exported[enumArrayName(name)], schema.enum, name);
  }
  assert.deepEqual(Sdk.EFFORTS, Models.Effort.options);
  assert.deepEqual(Sdk.AGENT_STATUSES, Models.AgentStatus.options);
  assert.deepEqual(Sdk.AGENT_KINDS, Models.AgentKind.options);
  // core/config validates HERO_ORCHESTRATOR_EFFORT without importing the models (it is a leaf).
  assert.deepEqual(CONFIG_EFFORTS, Sdk.EFFORTS);
});

Deno.test("enumArrayName() pluralises the type name in SCREAMING_SNAKE_CASE", () => {
  assert.equal(enumArrayName("Effort"), "EFFORTS");
  assert.equal(enumArrayName("AgentStatus"), "AGENT_STATUSES");
  assert.equal(enumArrayName("UsagePeriod"), "USAGE_PERIODS");
  assert.equal(enumArrayName("AgentErrorCode"), "AGENT_ERROR_CODES");
  assert.equal(enumArrayName("Policy"), "POLICIES");
});
