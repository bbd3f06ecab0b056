/** The committed `openrpc.json`, embedded (served verbatim by `GET /openrpc.json` and `rpc.discover`). */
import doc from "../openrpc.json" with { type: "json" };
import type { OpenrpcDocument } from "@hero/core/rpc";

export const OPENRPC: OpenrpcDocument = doc as OpenrpcDocument;
