import assert from "node:assert/strict";
import { z } from "zod";
import { METHOD_NAMES, METHODS } from "./methods.ts";
import { RPC_ERRORS } from "./errors.ts";

Deno.test("contract: names are namespace.method, results are named schemas, errors exist", () => {
  for (const name of METHOD_NAMES) {
    const spec = METHODS[name];
    assert.equal(spec.name, name);
    assert.match(name, /^[a-z]+\.[a-z]+(_[a-z]+)*$/);
    assert.ok(spec.summary.length > 0);
    assert.ok(z.globalRegistry.get(spec.result)?.id, `${name} result has a .meta({ id })`);
    for (const reason of spec.errors) {
      assert.ok(RPC_ERRORS[reason].code <= -32000 && RPC_ERRORS[reason].code >= -32099, reason);
    }
    for (const [field, reason] of Object.entries(spec.fieldErrors ?? {})) {
      assert.ok(field in spec.params.shape, `${name}: fieldErrors.${field} is a param`);
      assert.ok(spec.errors.includes(reason), `${name}: ${reason} is declared`);
    }
  }
});

Deno.test("contract: params are strict objects with snake_case keys and defaults", () => {
  for (const name of METHOD_NAMES) {
    const params = METHODS[name].params;
    for (const key of Object.keys(params.shape)) {
      assert.match(key, /^[a-z]+(_[a-z]+)*$/, `${name}.${key}`);
    }
    assert.equal(
      params.safeParse({ __unknown__: 1 }).success,
      false,
      `${name} rejects unknown keys`,
    );
  }
  assert.deepEqual(METHODS["agent.list"].params.parse({}), { limit: 50 });
  assert.deepEqual(METHODS["agent.messages"].params.parse({ id: "a" }), { id: "a", limit: 200 });
  const messages = METHODS["agent.messages"].params;
  assert.equal(messages.safeParse({ id: "a", before_seq: 5 }).success, true);
  assert.equal(messages.safeParse({ id: "a", after_seq: 5 }).success, true);
  const both = messages.safeParse({ id: "a", after_seq: 1, before_seq: 5 });
  assert.equal(both.success, false);
  assert.deepEqual(both.error!.issues.map((i) => i.path), [["before_seq"]]);
  assert.equal(messages.safeParse({ id: "a", before_seq: 0 }).success, false);
  assert.deepEqual(METHODS["agent.cwds"].params.parse({}), {});
  assert.equal(METHODS["agent.follow_up"].params.parse({ id: "a", prompt: "p" }).execute, false);
  assert.equal(
    METHODS["agent.create"].params.safeParse({ prompt: "p", cwd: "/", kind: "shadow" }).success,
    false,
  );
});
