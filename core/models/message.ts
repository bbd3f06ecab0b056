import { z } from "zod";

/** One stdout line of a claude process, stored verbatim. */
export const Message = z.object({
  agent_id: z.string(),
  seq: z.number().int().min(1),
  ts: z.number().int().describe("receive time, Unix epoch milliseconds"),
  type: z.string().nullable().describe("`type` of the JSON line; null when unparsable"),
  subtype: z.string().nullable(),
  raw: z.string().describe("the line as received (invalid UTF-8 replaced by U+FFFD here only)"),
  byte_length: z.number().int(),
  parse_error: z.boolean(),
  eof_no_newline: z.boolean(),
}).meta({ id: "Message" });
export type Message = z.infer<typeof Message>;
