/**
 * The generated SDK types and the zod contract describe the same values: each is assignable to the
 * other (checked by `deno check`; the test body only keeps the compiler honest at run time too).
 */
import assert from "node:assert/strict";
import type { z } from "zod";
import type * as Contract from "@hero/core/rpc";
import type * as Models from "@hero/core/models";
import type * as Sdk from "@hero/sdk";

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
