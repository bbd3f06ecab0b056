import assert from "node:assert/strict";
import { serveTcp, serveUnix, type ServeUnixOptions } from "./http_server.ts";

async function withServer(
  options: Partial<ServeUnixOptions>,
  fn: (path: string, server: ReturnType<typeof serveUnix>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hero_http_" });
  const path = `${dir}/t.sock`;
  const server = serveUnix({
    path,
    name: "test",
    maxConnections: 64,
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
    handler: () => new Response("ok"),
    ...options,
  });
  try {
    await fn(path, server);
  } finally {
    await server.shutdown(500);
    await Deno.remove(dir, { recursive: true });
  }
}

function client(path: string): Deno.HttpClient {
  return Deno.createHttpClient({ proxy: { transport: "unix", path } });
}

/** Reads from a raw connection until it closes (or `ms` pass); returns the text and whether it closed. */
async function readUntilClosed(
  conn: Deno.Conn,
  ms: number,
): Promise<{ text: string; closed: boolean }> {
  let text = "";
  const buf = new Uint8Array(4096);
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { text, closed: false };
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), left)),
    ]);
    if (n === "timeout") return { text, closed: false };
    if (n === null) return { text, closed: true };
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

Deno.test("serveUnix() answers requests with bodies, keeps connections alive and streams", async () => {
  await withServer({
    async handler(req) {
      const url = new URL(req.url);
      if (url.pathname === "/echo") {
        return Response.json({ method: req.method, body: await req.text() });
      }
      if (url.pathname === "/stream") {
        let n = 0;
        return new Response(
          new ReadableStream({
            async pull(controller) {
              await new Promise((r) => setTimeout(r, 5));
              controller.enqueue(new TextEncoder().encode(`data: ${n}\n\n`));
              if (++n === 3) controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      return new Response(null, { status: 404 });
    },
  }, async (path, server) => {
    const http = client(path);
    try {
      for (let i = 0; i < 5; i++) {
        const r = await fetch("http://localhost/echo", {
          client: http,
          method: "POST",
          body: JSON.stringify({ i, pad: "x".repeat(40_000) }),
        });
        const got = await r.json();
        assert.equal(got.method, "POST");
        assert.equal(JSON.parse(got.body).i, i);
      }
      assert.equal(server.stats().accepted, 1, "one kept-alive connection");
      const s = await fetch("http://localhost/stream", { client: http });
      assert.equal(await s.text(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
      const missing = await fetch("http://localhost/nope", { client: http });
      await missing.body?.cancel();
      assert.equal(missing.status, 404);
    } finally {
      http.close();
    }
  });
});

Deno.test("serveUnix() cancels a streaming body as soon as its client goes away", async () => {
  const { promise: cancelled, resolve } = Promise.withResolvers<number>();
  let opened = 0;
  await withServer({
    handler() {
      return new Response(
        new ReadableStream({
          start(controller) {
            opened = Date.now();
            controller.enqueue(new TextEncoder().encode(": hello\n\n"));
          },
          cancel() {
            resolve(Date.now());
          },
        }),
      );
    },
  }, async (path) => {
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nhost: localhost\r\n\r\n"));
    const buf = new Uint8Array(1024);
    assert.ok((await conn.read(buf))! > 0);
    conn.close();
    const at = await cancelled;
    assert.ok(at - opened < 5_000, `cancelled after ${at - opened} ms`);
  });
});

Deno.test("serveUnix() at the cap replaces the longest-idle connection; with all busy it answers 503", async () => {
  const { promise: release, resolve: releaseAll } = Promise.withResolvers<void>();
  let waiting = 0;
  await withServer({
    maxConnections: 3,
    async handler(req) {
      if (new URL(req.url).pathname === "/slow") {
        waiting++;
        await release;
      }
      return new Response("ok");
    },
  }, async (path, server) => {
    // Three idle connections (one half-sent): a new client still gets served, in place of the
    // oldest idle one.
    const idle = await Promise.all([0, 1, 2].map(() => Deno.connect({ transport: "unix", path })));
    await idle[2]!.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: lo"));
    const http = client(path);
    try {
      const r = await fetch("http://localhost/", { client: http });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), "ok");
      assert.equal(server.stats().evicted, 1);
      assert.ok((await readUntilClosed(idle[0]!, 10_000)).closed, "the oldest idle one is closed");
    } finally {
      http.close();
      for (const c of idle) c.close();
    }
    // Three connections each waiting for an answer are busy: the fourth is shed with a 503.
    await waitForConnections(server, 0);
    const busy = await Promise.all([0, 1, 2].map(async () => {
      const c = await Deno.connect({ transport: "unix", path });
      await c.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\nhost: localhost\r\n\r\n"));
      return c;
    }));
    try {
      const deadline = Date.now() + 10_000;
      while (waiting < 3) {
        assert.ok(Date.now() < deadline, `${waiting} requests in flight`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const extra = await Deno.connect({ transport: "unix", path });
      const { text, closed } = await readUntilClosed(extra, 10_000);
      extra.close();
      assert.match(text, /^HTTP\/1\.1 503 /);
      assert.ok(closed, "the shed connection is closed");
      assert.equal(server.stats().shed, 1);
      releaseAll();
      for (const c of busy) assert.match((await readUntilClosed(c, 1_000)).text, /200 OK/);
    } finally {
      releaseAll();
      for (const c of busy) c.close();
    }
  });
});

async function waitForConnections(server: ReturnType<typeof serveUnix>, n: number) {
  const deadline = Date.now() + 10_000;
  while (server.stats().connections !== n) {
    assert.ok(Date.now() < deadline, `${server.stats().connections} connections, expected ${n}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("serveUnix() closes a connection whose request head does not arrive within the header timeout", async () => {
  await withServer({ headerTimeoutMs: 300 }, async (path, server) => {
    const partial = await Deno.connect({ transport: "unix", path });
    await partial.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: loc"));
    const silent = await Deno.connect({ transport: "unix", path });
    const started = Date.now();
    const [a, b] = await Promise.all([
      readUntilClosed(partial, 10_000),
      readUntilClosed(silent, 10_000),
    ]);
    partial.close();
    silent.close();
    assert.ok(a.closed && b.closed, "both closed");
    assert.equal(a.text, "");
    assert.ok(Date.now() - started < 10_000);
    assert.equal(server.stats().timed_out, 2);
  });
});

Deno.test("serveUnix() closes a kept-alive connection after the idle timeout", async () => {
  await withServer({ idleTimeoutMs: 300 }, async (path, server) => {
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: localhost\r\n\r\n"));
    const { text, closed } = await readUntilClosed(conn, 10_000);
    conn.close();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\n\r\nok$/);
    assert.ok(closed, "closed once idle");
    assert.equal(server.stats().connections, 0);
  });
});

Deno.test("serveUnix() refuses malformed heads and request smuggling shapes", async () => {
  await withServer({}, async (path) => {
    for (
      const [head, status] of [
        ["BROKEN\r\n\r\n", 400],
        ["GET / HTTP/2.0\r\n\r\n", 505],
        [
          "POST / HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n",
          400,
        ],
        [`GET / HTTP/1.1\r\nx: ${"y".repeat(70_000)}\r\n\r\n`, 431],
      ] as const
    ) {
      const conn = await Deno.connect({ transport: "unix", path });
      await conn.write(new TextEncoder().encode(head)).catch(() => {});
      const { text } = await readUntilClosed(conn, 10_000);
      conn.close();
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), head.slice(0, 40));
    }
  });
});

Deno.test("serveUnix() decodes a chunked request body", async () => {
  await withServer({ handler: async (req) => new Response(await req.text()) }, async (path) => {
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(
      new TextEncoder().encode(
        "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n" +
          "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
      ),
    );
    const { text } = await readUntilClosed(conn, 10_000);
    conn.close();
    assert.match(text, /\r\n\r\nhello world$/);
  });
});

Deno.test("serveTcp() serves on a TCP port with the same limits", async () => {
  const server = serveTcp({
    hostname: "127.0.0.1",
    port: 0,
    name: "tcp",
    maxConnections: 8,
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
    handler: (req) => new Response(new URL(req.url).host),
  });
  try {
    const r = await fetch(`http://127.0.0.1:${server.addr.port}/x`);
    assert.equal(await r.text(), `127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown(500);
  }
});

Deno.test("serveUnix() answers 413 to a large body it does not read, and the client reads the answer (lingering close)", async () => {
  await withServer({
    handler: () => new Response("too large", { status: 413 }),
  }, async (path) => {
    const body = new Uint8Array(4 * 1024 * 1024).fill(0x20);
    for (let round = 0; round < 10; round++) {
      const conn = await Deno.connect({ transport: "unix", path });
      try {
        await conn.write(
          new TextEncoder().encode(
            `POST /rpc HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${body.length}\r\n\r\n`,
          ),
        );
        // Before the lingering close the server closed with the body unread: this write then
        // failed with a broken pipe or a reset, and the answer was lost with it.
        for (let at = 0; at < body.length;) at += await conn.write(body.subarray(at));
        const { text } = await readUntilClosed(conn, 30_000);
        assert.match(text, /^HTTP\/1\.1 413 /, `round ${round}`);
      } finally {
        conn.close();
      }
    }
  });
});
