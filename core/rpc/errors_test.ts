import assert from "node:assert/strict";
import { z } from "zod";
import {
  BusyError,
  InvalidStateError,
  InvalidTransitionError,
  ValidationError,
} from "../models/mod.ts";
import { AgentNotFoundError } from "../store/mod.ts";
import { RPC_ERRORS, RpcFault, toRpcError } from "./errors.ts";

Deno.test("toRpcError() maps engine errors by their code and keeps their message", () => {
  const cases: Array<[Error, number, string, string]> = [
    [new AgentNotFoundError("a1"), -32000, "not_found", "AgentNotFoundError"],
    [new InvalidStateError("Cannot complete"), -32001, "invalid_state", "InvalidStateError"],
    [
      new InvalidTransitionError("completed", "running", "a1"),
      -32001,
      "invalid_state",
      "InvalidStateError",
    ],
    [
      new ValidationError("invalid_cwd", "Cannot use working directory: x", "cwd"),
      -32002,
      "invalid_cwd",
      "ValidationError",
    ],
    [
      new ValidationError("invalid_model", "m", "model"),
      -32003,
      "invalid_model",
      "ValidationError",
    ],
    [
      new ValidationError("invalid_effort", "e", "effort"),
      -32004,
      "invalid_effort",
      "ValidationError",
    ],
    [
      new ValidationError("invalid_prompt", "p", "prompt"),
      -32005,
      "invalid_prompt",
      "ValidationError",
    ],
    [new BusyError("Cannot create agent: shutting down"), -32006, "busy", "BusyError"],
  ];
  for (const [err, code, reason, name] of cases) {
    const e = toRpcError(err);
    assert.equal(e.code, code, reason);
    assert.equal(e.message, err.message);
    assert.equal(e.data.code, reason);
    assert.equal(e.data.name, name);
  }
  assert.equal(toRpcError(new ValidationError("invalid_cwd", "x", "cwd")).data.field, "cwd");
});

Deno.test("toRpcError() hides unknown errors behind -32603", () => {
  for (
    const err of [new Error("secret /etc/passwd"), new TypeError("x is undefined"), "boom", null, {
      code: "not_found",
    }]
  ) {
    const e = toRpcError(err);
    assert.deepEqual(e, {
      code: -32603,
      message: "Internal error",
      data: { name: "InternalError", code: "internal_error" },
    });
  }
  // A code that is not a domain code (e.g. a standard one, or an engine-internal one) is not trusted.
  const sneaky = Object.assign(new Error("x"), { code: "invalid_request" });
  assert.equal(toRpcError(sneaky).code, -32603);
  const storage = Object.assign(new Error("disk"), { code: "storage_error" });
  assert.equal(toRpcError(storage).code, -32603);
});

Deno.test("toRpcError() turns zod errors and faults into their codes", () => {
  const zerr = z.object({ a: z.number() }).safeParse({ a: "x" }).error!;
  const e = toRpcError(zerr);
  assert.equal(e.code, -32602);
  assert.deepEqual((e.data.issues as Array<{ path: unknown[] }>)[0]!.path, ["a"]);
  const f = toRpcError(new RpcFault("method_not_found", "Method not found: x", { extra: 1 }));
  assert.deepEqual(f, {
    code: -32601,
    message: "Method not found: x",
    data: { extra: 1, name: "MethodNotFoundError", code: "method_not_found" },
  });
});

Deno.test("RPC_ERRORS: unique codes; domain codes from -32000 down", () => {
  const codes = Object.values(RPC_ERRORS).map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length);
  for (const [reason, spec] of Object.entries(RPC_ERRORS)) {
    assert.equal(spec.reason, reason);
    const standard = [-32700, -32600, -32601, -32602, -32603].includes(spec.code);
    assert.ok(standard || (spec.code <= -32000 && spec.code >= -32099), `${reason} ${spec.code}`);
  }
});
