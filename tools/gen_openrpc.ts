/**
 * `deno task gen` (first half): writes `openrpc.json` (OpenRPC 1.3.2) from the zod contract in
 * `core/rpc`. Every method gets by-name params, its result, its summary and its errors; every
 * schema with a `.meta({ id })` lands in `components.schemas`, referenced by `$ref`.
 * @module
 */
import { z } from "zod";
import { type ErrorSpec, METHOD_NAMES, METHODS, RPC_ERRORS, VERSION } from "@hero/core/rpc";

type Json = Record<string, unknown>;

const SCHEMA_REF = "#/components/schemas/";
const ERROR_REF = "#/components/errors/";

/** The component name of an error: its machine code in PascalCase (`not_found` → `NotFound`). */
export function errorComponentName(reason: string): string {
  return reason.split("_").map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

function errorObject(spec: ErrorSpec): Json {
  return {
    code: spec.code,
    message: spec.message,
    data: { name: spec.name, code: spec.reason },
  };
}

/** Strips `$schema`/`$id` from every component and sorts keys for a stable output. */
function clean(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(clean);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "$id") continue;
    out[key] = clean(value);
  }
  return out;
}

function convert(io: "input" | "output", extra: Record<string, z.ZodType>): Record<string, Json> {
  // Method params objects join the global registry for the conversion, so their `.meta({ id })`
  // sub-schemas become `$ref`s to components instead of inline definitions.
  const added: z.ZodType[] = [];
  for (const [id, schema] of Object.entries(extra)) {
    z.globalRegistry.add(schema, { id });
    added.push(schema);
  }
  try {
    const schemas = z.toJSONSchema(z.globalRegistry, {
      target: "draft-7",
      io,
      uri: (id) => `${SCHEMA_REF}${id}`,
      unrepresentable: "any",
    }).schemas as Record<string, Json>;
    const out: Record<string, Json> = {};
    for (const [id, schema] of Object.entries(schemas)) out[id] = clean(schema) as Json;
    return out;
  } finally {
    for (const schema of added) z.globalRegistry.remove(schema);
  }
}

/** `{ allOf: [x] }` (zod's wrapper for a described `$ref`) is just `x`. */
function unwrap(schema: Json): Json {
  const keys = Object.keys(schema);
  if (keys.length === 1 && Array.isArray(schema.allOf) && schema.allOf.length === 1) {
    return schema.allOf[0] as Json;
  }
  return schema;
}

function refOrInline(schema: z.ZodType, components: Record<string, Json>, name: string): Json {
  const id = z.globalRegistry.get(schema)?.id;
  if (id && components[id]) return { $ref: `${SCHEMA_REF}${id}` };
  throw new Error(`Cannot generate ${name}: its result schema has no .meta({ id })`);
}

/** The OpenRPC document, as a plain object. */
export function generateOpenrpc(): Json {
  // Methods may share one params object (e.g. `{ id }`): one temporary id per distinct schema.
  const paramsIds: Record<string, z.ZodType> = {};
  const idOf = new Map<z.ZodType, string>();
  for (const name of METHOD_NAMES) {
    const schema = METHODS[name].params;
    if (!idOf.has(schema)) {
      idOf.set(schema, `__params__${name}`);
      paramsIds[`__params__${name}`] = schema;
    }
  }
  const inputs = convert("input", paramsIds);
  const outputs = convert("output", {});

  const methods = METHOD_NAMES.map((name) => {
    const spec = METHODS[name];
    const paramsSchema = inputs[idOf.get(spec.params)!]!;
    const properties = (paramsSchema.properties ?? {}) as Record<string, Json>;
    const required = new Set((paramsSchema.required ?? []) as string[]);
    const params = Object.entries(properties).map(([param, schema]) => {
      const { description, ...rest } = schema as Json;
      return {
        name: param,
        ...(typeof description === "string" ? { description } : {}),
        required: required.has(param),
        schema: unwrap(rest),
      };
    });
    return {
      name,
      summary: spec.summary,
      ...("description" in spec && spec.description ? { description: spec.description } : {}),
      paramStructure: "by-name",
      params,
      result: { name: "result", schema: refOrInline(spec.result, outputs, name) },
      errors: spec.errors.map((reason) => ({ $ref: `${ERROR_REF}${errorComponentName(reason)}` })),
    };
  });

  const schemas: Record<string, Json> = {};
  for (const id of Object.keys(outputs).sort()) {
    if (!id.startsWith("__params__")) schemas[id] = outputs[id]!;
  }
  const errors: Record<string, Json> = {};
  for (const spec of Object.values(RPC_ERRORS)) {
    errors[errorComponentName(spec.reason)] = errorObject(spec);
  }
  return {
    openrpc: "1.3.2",
    info: {
      title: "hero_orchestrator",
      version: VERSION,
      description:
        "Runs and supervises claude CLI agents. JSON-RPC 2.0 over HTTP on a Unix socket (POST /rpc); live events on GET /events (SSE). Every error carries data.name and data.code.",
    },
    methods,
    components: { schemas, errors },
  };
}

/** Formats text with the repository's `deno fmt` settings (so `deno fmt --check` accepts it). */
export async function denoFmt(text: string, ext: "ts" | "json"): Promise<string> {
  const root = new URL("..", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", `--ext=${ext}`, "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`Cannot format generated ${ext}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** `openrpc.json` text as committed. */
export async function renderOpenrpc(): Promise<string> {
  return await denoFmt(JSON.stringify(generateOpenrpc(), null, 2) + "\n", "json");
}

if (import.meta.main) {
  const out = Deno.args[0] ?? new URL("../openrpc.json", import.meta.url).pathname;
  await Deno.writeTextFile(out, await renderOpenrpc());
  console.error(`Wrote ${out}`);
}
