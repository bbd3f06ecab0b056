/** The shape of one contract method, and the parameter schemas many methods share. */
import { z } from "zod";
import type { DomainErrorReason } from "./errors.ts";
import { MAX_PROMPT_CHARS } from "./limits.ts";

/** One method of the contract. */
export interface MethodSpec<
  N extends string = string,
  P extends z.ZodObject = z.ZodObject,
  R extends z.ZodType = z.ZodType,
> {
  name: N;
  summary: string;
  description?: string;
  /** By-name params; strict (unknown keys are invalid params). */
  params: P;
  result: R;
  /** Domain errors this method can answer with (protocol errors apply to every method). */
  errors: readonly DomainErrorReason[];
  /**
   * Params whose validation failure is answered with a domain error instead of -32602, so a bad
   * value has the same code whether the schema or the engine rejects it.
   */
  fieldErrors?: Readonly<Record<string, DomainErrorReason>>;
}

/** Identity function that keeps a method's literal types. */
export function defineMethod<N extends string, P extends z.ZodObject, R extends z.ZodType>(
  spec: MethodSpec<N, P, R>,
): MethodSpec<N, P, R> {
  return spec;
}

export const AgentId = z.string().min(1).max(64).describe("agent id");

export const Prompt = z.string().min(1).max(MAX_PROMPT_CHARS).describe(
  `prompt text, 1..${MAX_PROMPT_CHARS} characters`,
);
