import assert from "node:assert/strict";
import metaSchemaModule from "@open-rpc/meta-schema";
import Ajv from "ajv";
import jsonSchemaMetaModule from "@json-schema-tools/meta-schema";
import { METHOD_NAMES, METHODS, RPC_ERRORS } from "@hero/core/rpc";
import { HANDLERS } from "@hero/server/rpc/handlers";
import { OPENRPC } from "@hero/server/openrpc";
import { generateOpenrpc } from "./gen_openrpc.ts";
import { findDrift } from "./check_drift.ts";

const root = new URL("..", import.meta.url).pathname;
const committed = JSON.parse(await Deno.readTextFile(`${root}openrpc.json`));

/** A schema of an npm module, without its custom `$schema` URI (the content is draft-07). */
function schemaOf(module: unknown, name: string): Record<string, unknown> {
  const mod = module as Record<string, unknown>;
  const schema = (mod[name] ?? mod.default ?? mod) as Record<string, unknown>;
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

Deno.test("openrpc.json validates against the OpenRPC meta-schema", () => {
  // deno-lint-ignore no-explicit-any
  const ajv = new (Ajv as any)({ strict: false, allErrors: true, validateFormats: false });
  // The OpenRPC meta-schema refers to the JSON-Schema meta-schema of json-schema.tools.
  // It is referenced both with and without the trailing slash of its $id.
  const jsonSchemaMeta = schemaOf(jsonSchemaMetaModule, "jsonSchema");
  ajv.addSchema(jsonSchemaMeta);
  ajv.addSchema({ ...jsonSchemaMeta, $id: "https://meta.json-schema.tools" });
  const validate = ajv.compile(schemaOf(metaSchemaModule, "openrpcDocument"));
  const ok = validate(committed);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  // And a broken document does not (the validator really checks).
  assert.equal(validate({ ...committed, methods: [{ name: 1 }] }), false);
});

Deno.test("openrpc.json: every method has summary, by-name params, result and errors", () => {
  assert.equal(committed.openrpc, "1.3.2");
  for (const method of committed.methods) {
    assert.equal(typeof method.summary, "string", method.name);
    assert.equal(method.paramStructure, "by-name", method.name);
    assert.ok(Array.isArray(method.params), method.name);
    assert.ok(method.result?.schema, method.name);
    assert.ok(Array.isArray(method.errors), method.name);
    assert.match(method.name, /^[a-z]+\.[a-z_]+$/, "namespace.method, lowercase snake_case");
    for (const error of method.errors) {
      const name = String(error.$ref).replace("#/components/errors/", "");
      assert.ok(committed.components.errors[name], `${method.name}: ${error.$ref} resolves`);
    }
  }
  const refs = JSON.stringify(committed).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g);
  for (const [, id] of refs) assert.ok(committed.components.schemas[id!], `schema ${id} exists`);
  assert.equal(Object.keys(committed.components.errors).length, Object.keys(RPC_ERRORS).length);
});

Deno.test("the dispatched methods are exactly the methods of openrpc.json and the contract", () => {
  const spec = committed.methods.map((m: { name: string }) => m.name).sort();
  assert.deepEqual(Object.keys(HANDLERS).sort(), spec);
  assert.deepEqual([...METHOD_NAMES].sort(), spec);
  assert.deepEqual(Object.keys(METHODS).sort(), spec);
});

Deno.test("the served document is the committed openrpc.json, and it is up to date", async () => {
  assert.deepEqual(OPENRPC, committed);
  assert.deepEqual(JSON.parse(JSON.stringify(generateOpenrpc())), committed);
  assert.deepEqual(await findDrift(), []);
});
