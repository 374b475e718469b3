// `eventsource-wasm record`, run in process (runRecord) against node:http servers on
// 127.0.0.1: what it writes, when it stops, and how it fails.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, createGzip } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { runRecord } from "../../src/cli/record.js";
import { readRecording } from "../../src/cli/recording.js";
import { closeAllServers, sse, startServer } from "../support/server.js";
import { commandIo as io, eventsOf, WRITES, writeSlowly } from "../support/recorded-feed.js";
import { TLS_DIR } from "../support/cli.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "esw-record-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(closeAllServers);

describe("record", () => {
  test("writes the status, the headers and each chunk as it arrived, with its time, until the stream ends", async () => {
    const server = await startServer((_req, res) => {
      sse(res, { "x-feed": "prices" });
      writeSlowly(res, WRITES, 40);
    });
    const file = join(dir, "whole.sse.rec");
    const t = io();
    const code = await runRecord([server.url, "-o", file], t.io);
    expect(t.stderr).toMatch(/recorded 6 chunks, \d+ bytes, 5 events .*the server ended the stream/);
    expect(code).toBe(0);

    const rec = readRecording(file);
    expect(rec.header.status).toBe(200);
    expect(rec.header.url).toBe(server.url);
    expect(rec.header.headers).toContainEqual(["content-type", "text/event-stream"]);
    expect(rec.header.headers).toContainEqual(["x-feed", "prices"]);
    // One frame per write, byte for byte (the writes are 40 ms apart).
    expect(rec.frames.map((f) => Buffer.from(f.bytes).toString("hex"))).toEqual(WRITES.map((w) => w.toString("hex")));
    // Times as read: rising, the last one at least the writes' 5 gaps of 40 ms later than the
    // first (less a little: the first chunk is read once the client has checked the headers).
    for (let i = 1; i < rec.frames.length; i++) expect(rec.frames[i]!.at).toBeGreaterThan(rec.frames[i - 1]!.at);
    expect(rec.frames.at(-1)!.at - rec.frames[0]!.at).toBeGreaterThanOrEqual(150);
    expect(rec.end?.reason).toBe("eof");
    expect(rec.end!.at).toBeGreaterThanOrEqual(rec.frames.at(-1)!.at);
    expect(rec.truncatedAt).toBeUndefined();
  });

  test("records the body decoded when the server compresses it (and asks for it as fetch does)", async () => {
    const server = await startServer((req, res) => {
      if (!/gzip/.test(String(req.headers["accept-encoding"]))) {
        res.writeHead(406).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "gzip" });
      const gz = createGzip({ flush: constants.Z_SYNC_FLUSH });
      gz.pipe(res);
      let n = 0;
      const tick = (): void => {
        if (++n > 3) return void gz.end();
        gz.write(`id: ${n}\ndata: tick ${n}\n\n`);
        setTimeout(tick, 30);
      };
      tick();
    });
    const file = join(dir, "gzip.sse.rec");
    const t = io();
    expect(await runRecord([server.url, "-o", file], t.io)).toBe(0);
    const rec = readRecording(file);
    expect(rec.header.headers).toContainEqual(["content-encoding", "gzip"]);
    expect(Buffer.concat(rec.frames.map((f) => f.bytes)).toString()).toBe("id: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n");
    // Flushed per event, decoded as it streams: an event per frame, not one at the end.
    expect(rec.frames.length).toBeGreaterThanOrEqual(3);
  });

  test("--count n stops after the chunk that brought the n-th event", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      writeSlowly(res, Array.from({ length: 200 }, (_, i) => Buffer.from(`id: ${i}\ndata: ${i}\n\n`)), 10, false);
    });
    const file = join(dir, "count.sse.rec");
    const t = io();
    expect(await runRecord([server.url, "-o", file, "--count", "3"], t.io)).toBe(0);
    const rec = readRecording(file);
    expect(rec.end?.reason).toBe("count");
    expect(eventsOf(rec.frames.map((f) => f.bytes)).map((e) => e.data)).toEqual(["0", "1", "2"]);
  });

  test("--duration stops that long after the response", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      writeSlowly(res, Array.from({ length: 500 }, (_, i) => Buffer.from(`data: ${i}\n\n`)), 20, false);
    });
    const file = join(dir, "duration.sse.rec");
    const t = io();
    const started = performance.now();
    expect(await runRecord([server.url, "-o", file, "--duration", "0.3s"], t.io)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const rec = readRecording(file);
    expect(rec.end?.reason).toBe("duration");
    expect(rec.end!.at).toBeGreaterThanOrEqual(299);
    expect(rec.frames.length).toBeGreaterThan(1);
    expect(rec.frames.at(-1)!.at).toBeLessThanOrEqual(rec.end!.at);
    // Nothing read well after the deadline (a stalled process reads nothing either).
    expect(rec.frames.at(-1)!.at).toBeLessThan(400);
  });

  test("SIGTERM closes the file with an end record and exits 143", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      writeSlowly(res, [Buffer.from("data: one\n\n"), Buffer.from("data: two\n\n")], 20, false);
    });
    const file = join(dir, "signal.sse.rec");
    const t = io();
    const exit = runRecord([server.url, "-o", file], t.io);
    // Frames are in the file as soon as they arrive.
    await expect.poll(() => (existsSync(file) ? readRecording(file).frames.length : 0)).toBe(2);
    t.signals.emit("SIGTERM");
    expect(await exit).toBe(143);
    const rec = readRecording(file);
    expect(rec.end?.reason).toBe("signal");
    expect(rec.frames).toHaveLength(2);
  });

  test("sends -H headers", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("data: x\n\n");
    });
    const t = io();
    expect(await runRecord([server.url, "-o", join(dir, "h.sse.rec"), "-H", "Authorization: Bearer abc"], t.io)).toBe(0);
    expect(server.requests[0]!.headers.authorization).toBe("Bearer abc");
    expect(server.requests[0]!.headers.accept).toBe("text/event-stream");
  });

  describe("fails clearly, with the CLI's exit statuses, and leaves no file", () => {
    test.each([
      ["an HTTP error status", 3, /^error: HTTP 404 Not Found$/m, (res: ServerResponse) => res.writeHead(404).end("no")],
      [
        "a response that is not an event stream",
        4,
        /^error: expected text\/event-stream, got text\/html$/m,
        (res: ServerResponse) => res.writeHead(200, { "content-type": "text/html" }).end("<p>"),
      ],
    ])("%s: exit %d", async (_name, status, message, handler) => {
      const server = await startServer((_req, res) => handler(res));
      const file = join(dir, `fail-${status}.sse.rec`);
      const t = io();
      expect(await runRecord([server.url, "-o", file], t.io)).toBe(status);
      expect(t.stderr).toMatch(message);
      expect(existsSync(file)).toBe(false);
    });

    test("a refused connection: exit 1", async () => {
      const server = await startServer(() => {});
      const url = server.url;
      await server.close();
      const file = join(dir, "refused.sse.rec");
      const t = io();
      expect(await runRecord([url, "-o", file], t.io)).toBe(1);
      // exit.ts's line, as `eventsource-wasm <url>` prints it: the URL and the socket's error.
      expect(t.stderr).toMatch(/^error: request to http:\/\/127\.0\.0\.1:\d+\/ failed: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/m);
      expect(existsSync(file)).toBe(false);
    });

    test("a certificate not trusted: exit 6, without the main command's --cacert/-k advice", async () => {
      const server = createHttpsServer({ key: readFileSync(join(TLS_DIR, "key.pem")), cert: readFileSync(join(TLS_DIR, "cert.pem")) }, (_req, res) =>
        sse(res),
      );
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const file = join(dir, "tls.sse.rec");
        const t = io();
        expect(await runRecord([`https://127.0.0.1:${(server.address() as AddressInfo).port}/`, "-o", file], t.io)).toBe(6);
        expect(t.stderr).toMatch(/^error: TLS: .*\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)$/m);
        expect(existsSync(file)).toBe(false);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    test("HTTP 204, the server's \"stop\": exit 0, as for the main command, saying why there is no file", async () => {
      const server = await startServer((_req, res) => res.writeHead(204).end());
      const file = join(dir, "204.sse.rec");
      const t = io();
      expect(await runRecord([server.url, "-o", file], t.io)).toBe(0);
      expect(t.stderr).toBe("the server ended the stream (HTTP 204 No Content)\n");
      expect(existsSync(file)).toBe(false);
    });

    test("a port fetch refuses: exit 1", async () => {
      const t = io();
      expect(await runRecord(["http://127.0.0.1:6000/", "-o", join(dir, "x.rec")], t.io)).toBe(1);
      expect(t.stderr).toBe('error: cannot connect to 127.0.0.1:6000: fetch refuses port 6000 (a "bad port" in the Fetch standard)\n');
    });

    test.each([
      ["no URL", ["-o", "x.rec"], /missing <url>/],
      ["a bad URL", ["http://[nope", "-o", "x.rec"], /invalid URL/],
      ["another scheme", ["ftp://example.com/", "-o", "x.rec"], /only http: and https:/],
      ["no -o", ["http://127.0.0.1:1/"], /missing -o/],
      ["a bad --count", ["http://127.0.0.1:1/", "-o", "x.rec", "--count", "0"], /--count/],
      ["a bad --duration", ["http://127.0.0.1:1/", "-o", "x.rec", "--duration", "soon"], /--duration/],
      ["an unknown option", ["http://127.0.0.1:1/", "-o", "x.rec", "--nope"], /--nope/],
      ["a directory that does not exist", ["http://127.0.0.1:1/", "-o", "/nonexistent-dir/x.rec"], /cannot write/],
    ])("bad usage, %s: exit 2", async (_name, argv, message) => {
      const t = io();
      expect(await runRecord(argv, t.io)).toBe(2);
      expect(t.stderr).toMatch(message);
    });
  });
});
