/**
 * `createRpcApp(deps)`: the Hono app served on rpc.sock. No I/O at import; everything it touches
 * is passed in by the composition root.
 * @module
 */
import { Hono } from "hono";
import { SERVICE_NAME } from "@hero/core/config";
import { VERSION } from "@hero/core/rpc";
import type { RpcDeps } from "./rpc/deps.ts";
import { Dispatcher, handleRpcHttp } from "./rpc/dispatch.ts";
import { HANDLERS, healthReport } from "./rpc/handlers/mod.ts";
import type { EventHub } from "./events.ts";
import { exportContentType, exportFileName, exportStream } from "@hero/core/export";

export interface RpcAppDeps extends Omit<RpcDeps, "events"> {
  events: EventHub;
}

/** The discovery manifest (`/.well-known/heroservice.json`). */
export function heroServiceManifest(methodsCount: number): Record<string, unknown> {
  return {
    protocol: "openrpc",
    name: SERVICE_NAME,
    title: "Hero Orchestrator",
    version: VERSION,
    description: "Runs and supervises claude CLI agents",
    socket: "rpc",
    methods_count: methodsCount,
  };
}

/**
 * Routes: POST /rpc, GET /openrpc.json, /health, /.well-known/heroservice.json, /events, and
 * /export/<id>.jsonl|.md (the transcript downloads `agent.export` points at).
 */
export function createRpcApp(deps: RpcAppDeps): Hono {
  const dispatcher = new Dispatcher({ handlers: HANDLERS, deps });
  const app = new Hono();
  app.post("/rpc", function rpc(c) {
    return handleRpcHttp(c.req.raw, dispatcher);
  });
  app.get("/openrpc.json", function openrpc(c) {
    return c.json(deps.openrpc);
  });
  app.get("/health", function health(c) {
    const report = healthReport(deps);
    return c.json(report, report.status === "error" ? 503 : 200);
  });
  app.get("/.well-known/heroservice.json", function manifest(c) {
    return c.json(heroServiceManifest(dispatcher.methods.length));
  });
  app.get("/events", function events(c) {
    return deps.events.handle(c.req.raw);
  });
  app.get("/export/:file", function exportTranscript(c) {
    const match = /^(.+)\.(jsonl|md)$/.exec(c.req.param("file"));
    if (!match) return c.json({ error: { status: 404, message: "Not found" } }, 404);
    const format = match[2] === "md" ? "markdown" : "jsonl";
    const agent = deps.engine.store.getAgent(match[1]!);
    if (!agent) {
      return c.json({ error: { status: 404, message: `Cannot find agent "${match[1]}"` } }, 404);
    }
    // A file name the browser keeps: ASCII only (the slug), quoted.
    return new Response(exportStream(deps.engine.store, agent, format), {
      headers: {
        "content-type": exportContentType(format),
        "content-disposition": `attachment; filename="${exportFileName(agent, format)}"`,
        "cache-control": "no-store",
      },
    });
  });
  app.notFound(function notFound(c) {
    return c.json({ error: { status: 404, message: "Not found" } }, 404);
  });
  app.onError(function onError(err, c) {
    deps.log("error", "request failed", { path: c.req.path, error: String(err) });
    return c.json({ error: { status: 500, message: "Internal error" } }, 500);
  });
  return app;
}
