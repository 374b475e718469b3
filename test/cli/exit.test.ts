// exit.ts: every way a run can fail, as an exit status and a line on stderr, in process; and,
// through the built command, the statuses a real server's failures give.
import { describe, expect, test } from "vitest";
import type { EventSourceErrorCode } from "../../src/index.js";
import { describeError, EXIT, failureEnding, tlsEnding, tlsFailure } from "../../src/cli/exit.js";
import { serve, serveTls, once, runCli, useCli } from "../support/cli.js";

useCli();

// Written out, not derived from the module: this is what --help and docs/cli.md promise.
const STATUS_OF: Record<EventSourceErrorCode, number> = {
  HTTP_STATUS: 3,
  BAD_CONTENT_TYPE: 4,
  MAX_ATTEMPTS: 5,
  TOO_MANY_REDIRECTS: 7,
  BAD_REDIRECT: 7,
  NETWORK: 1,
  STREAM_ENDED: 1,
  IDLE_TIMEOUT: 1,
  EVENT_TIMEOUT: 1,
  TLS: 6,
  CONTENT_ENCODING: 1,
  EVENT_TOO_LARGE: 1,
  HEADERS: 1,
  ABORTED: 1,
  UNREADABLE_BODY: 1,
  LAST_EVENT_ID_NOT_SENT: 1,
};

const headers = (h: Record<string, string>) => new Headers(h);
const tlsError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("failureEnding: the status and message of a source that failed for good", () => {
  test.each(Object.entries(STATUS_OF))("%s exits %i, with the reason after error:", (code, status) => {
    const ending = failureEnding({ code, message: `what ${code} says`, status: 500, attempts: 2, cause: new Error("below") });
    expect(ending.code).toBe(status);
    expect(ending.message).toMatch(/^error: \S/);
  });

  test("the statuses are those --help lists", () => {
    expect(EXIT).toEqual({ OK: 0, FAILED: 1, USAGE: 2, HTTP_STATUS: 3, CONTENT_TYPE: 4, RETRIES: 5, TLS: 6, REDIRECT: 7, SIGINT: 130, SIGTERM: 143 });
  });

  test("a code it does not know (a newer library) exits 1, with the library's message", () => {
    expect(failureEnding({ code: "SOMETHING_NEW", message: "a new failure" })).toEqual({ code: 1, message: "error: a new failure" });
    expect(failureEnding({ message: "no code at all" })).toEqual({ code: 1, message: "error: no code at all" });
    expect(failureEnding({ code: "toString", message: "m" }).code).toBe(1);
  });

  test("204 is the server's way to say it is done: 0, said only with -v", () => {
    const e = { code: "HTTP_STATUS", status: 204, message: "HTTP 204" };
    expect(failureEnding(e)).toEqual({ code: 0, message: undefined });
    expect(failureEnding(e, { verbose: true })).toEqual({ code: 0, message: "the server ended the stream (HTTP 204 No Content)" });
    expect(failureEnding({ ...e, status: 205 }).code).toBe(3);
  });

  test("a TLS failure under any code is 6, with what to do about it", () => {
    const cause = new Error("request failed", { cause: tlsError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate") });
    const ending = failureEnding({ code: "NETWORK", message: "request failed", cause });
    expect(ending).toEqual({
      code: 6,
      message: "error: TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT) (--cacert <file> trusts a CA, -k accepts any certificate)",
    });
    expect(failureEnding({ code: "MAX_ATTEMPTS", message: "m", cause: tlsError("ERR_TLS_CERT_ALTNAME_INVALID", "bad name") }).code).toBe(6);
  });
});

describe("tlsFailure / tlsEnding", () => {
  test.each([
    "CERT_HAS_EXPIRED",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "ERR_SSL_WRONG_VERSION_NUMBER",
    "HOSTNAME_MISMATCH",
  ])("%s, four causes down, is a TLS failure", (code) => {
    const deep = new Error("a", { cause: new Error("b", { cause: new Error("c", { cause: tlsError(code, "x") }) }) });
    expect(tlsFailure(deep)).toMatchObject({ code });
    expect(tlsEnding({ cause: deep })?.code).toBe(6);
  });

  test.each(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ERR_STREAM_PREMATURE_CLOSE"])("%s is not", (code) => {
    expect(tlsFailure(tlsError(code, "x"))).toBeUndefined();
    expect(tlsEnding({ cause: tlsError(code, "x") })).toBeUndefined();
  });

  test("too deep, or not an Error, is not looked at", () => {
    let e: unknown = tlsError("CERT_HAS_EXPIRED", "x");
    for (let i = 0; i < 5; i++) e = new Error("wrap", { cause: e });
    expect(tlsFailure(e)).toBeUndefined();
    expect(tlsFailure({ code: "CERT_HAS_EXPIRED" })).toBeUndefined();
  });
});

describe("describeError: one line for each failure", () => {
  test.each([
    ["a status with its text", { code: "HTTP_STATUS", status: 503, statusText: "Busy" }, "HTTP 503 Busy"],
    ["a status without one", { code: "HTTP_STATUS", status: 404, statusText: "" }, "HTTP 404 Not Found"],
    ["an unknown status", { code: "HTTP_STATUS", status: 599 }, "HTTP 599"],
    ["the content type received", { code: "BAD_CONTENT_TYPE", message: "m", headers: headers({ "content-type": "text/html" }) }, "expected text/event-stream, got text/html"],
    ["no content type", { code: "BAD_CONTENT_TYPE", headers: headers({}) }, "expected text/event-stream, got no content type"],
    ["the idle timeout's own message", { code: "IDLE_TIMEOUT", message: "no data received for 300 ms" }, "no data received for 300 ms"],
    ["a network error's cause", { code: "NETWORK", message: "request failed", cause: tlsError("ECONNREFUSED", "connect refused") }, "network error: connect refused (ECONNREFUSED)"],
    ["a message that already says it", { code: "NETWORK", message: "connect refused (ECONNREFUSED)", cause: tlsError("ECONNREFUSED", "connect refused") }, "connect refused (ECONNREFUSED)"],
    ["the last failure and the attempts", { code: "MAX_ATTEMPTS", attempts: 3, cause: { code: "HTTP_STATUS", status: 502 } }, "HTTP 502 Bad Gateway (gave up after 3 reconnection attempts)"],
    ["one attempt", { code: "MAX_ATTEMPTS", attempts: 1, cause: { code: "HTTP_STATUS", status: 502 } }, "HTTP 502 Bad Gateway (gave up after 1 reconnection attempt)"],
    ["--retries 0", { code: "MAX_ATTEMPTS", attempts: 0, cause: { code: "STREAM_ENDED", message: "the server ended the stream" } }, "the server ended the stream (no reconnection: --retries 0)"],
    ["anything else: its message", { code: "HEADERS", message: "headers() threw" }, "headers() threw"],
    ["nothing at all", {}, "connection failed"],
  ])("%s", (_name, e, line) => {
    expect(describeError(e)).toBe(line);
  });
});

describe.concurrent("the built command's exit statuses", () => {
  test("exit 3 with the reason on stderr: HTTP 404", async () => {
    const s = await serve((_req, res) => res.writeHead(404, { "content-type": "text/plain" }).end("nope"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: HTTP 404 Not Found\n");
    expect(s.requests).toHaveLength(1); // a bad status is fatal: no reconnection
  });

  test("exit 4 with the reason on stderr: wrong content type", async () => {
    const s = await serve((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<p>hi"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("error: expected text/event-stream, got text/html; charset=utf-8\n");
  });

  test("exit 5 after --retries failed reconnections", async () => {
    const s = await serve((req) => req.socket.destroy());
    const r = await runCli([s.url, "--retries", "0"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: .*\(no reconnection: --retries 0\)\n$/);
  });

  test("exit 6 on a certificate that is not trusted, at once (no retry loop)", async () => {
    const s = await serveTls(once("retry: 10\ndata: over tls\n\n"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: TLS: .*self[- ]signed.*--cacert.*-k.*\n$/i);
    expect(s.requests()).toBe(0); // the handshake failed: no request was made
  });

  test("exit 7: a redirect that cannot be followed", async () => {
    const s = await serve((_req, res) => res.writeHead(302, { location: "ftp://127.0.0.1/x" }).end());
    const r = await runCli([s.url]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: .*ftp:\/\/127\.0\.0\.1\/x.*\n$/);
  });
});
