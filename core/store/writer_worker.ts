/**
 * The `MessageWriter`'s worker thread (started by `writer_thread.ts`): opens its own connection to
 * the store's database and commits each batch it is handed, replying after COMMIT returned.
 */
/// <reference lib="deno.worker" />
import { Connection } from "./_connection.ts";
import { openDatabase } from "./db.ts";
import { messageOf } from "./errors.ts";
import { commitBatch } from "./writer_commit.ts";
import { unpackLines, type WorkerReply, type WorkerRequest } from "./writer_thread.ts";
import { WriteLockCell } from "./write_lock.ts";

let conn: Connection | undefined;
/** Where this thread marks its hold on the write lock for the event loop. */
let lock: WriteLockCell | undefined;
/** Why the connection could not be opened; every batch then fails with it. */
let openError: string | null = null;

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  switch (request.kind) {
    case "open":
      lock = new WriteLockCell(request.lock);
      try {
        conn = new Connection(
          openDatabase(request.path, { busyTimeoutMs: request.busyTimeoutMs }),
        );
      } catch (err) {
        openError = messageOf(err);
      }
      reply({ kind: "opened", error: openError });
      return;
    case "commit": {
      const outcome = conn === undefined
        ? { ok: false as const, fault: null, message: openError ?? "no database" }
        : commitBatch(
          conn,
          {
            lines: unpackLines(request.lines, request.bytes),
            patches: request.patches,
            selectList: request.selectList,
          },
          undefined,
          lock,
        );
      reply({ kind: "done", id: request.id, outcome });
      return;
    }
    case "close":
      try {
        if (conn?.db.isOpen) conn.db.close();
      } finally {
        reply({ kind: "closed" });
      }
      return;
  }
};
