/** The pure rules of src/client/connection.ts and redirect.ts: MIME type check, redirects, request headers. */
import { describe, expect, test } from "vitest";
import { buildRequestHeaders, isEventStreamContentType, normalizeMethod, utf8AsLatin1 } from "../../src/client/connection.js";
import { followRedirect } from "../../src/client/redirect.js";

describe("isEventStreamContentType (MIME type essence, case-insensitive, parameters allowed)", () => {
  test.each([
    ["text/event-stream", true],
    ["Text/Event-Stream", true],
    ["TEXT/EVENT-STREAM;charset=utf-8", true],
    ["text/event-stream ; charset=utf-8", true],
    ["\t text/event-stream \t", true],
    ["text/event-stream;", true],
    ["text/event-streams", false],
    ["text/event-strea", false],
    ["text /event-stream", false],
    ["text/ event-stream", false],
    ["text/plain", false],
    ["event-stream", false],
    ["", false],
    [null, false],
  ])("%j → %s", (value, expected) => {
    expect(isEventStreamContentType(value)).toBe(expected);
  });
});

describe("regression: isEventStreamContentType on combined values (Fetch extract a MIME type: the last valid one wins)", () => {
  test.each([
    ["text/event-stream, text/event-stream", true],
    ["text/event-stream,text/event-stream;charset=utf-8", true],
    ["text/html, text/event-stream", true],
    ["text/event-stream, text/html", false],
    ["text/event-stream, */*", true],
    ["text/event-stream, not a mime type", true],
    ["text/event-stream, te xt/html", true],
    ["text/event-stream, ", true],
    ['text/html; x="a,text/event-stream"', false],
    ['text/html; x="\\"", text/event-stream', true],
    ['text/html, text/event-stream; x="unterminated', true],
    [", ,", false],
  ])("%j → %s", (value, expected) => {
    expect(isEventStreamContentType(value)).toBe(expected);
  });
});

describe("followRedirect (Fetch HTTP-redirect fetch)", () => {
  const base = new URL("http://a.test/x/y");

  test("relative Location resolves against the current URL", () => {
    const r = followRedirect(base, 302, "../z?q", "GET", null);
    expect(typeof r).toBe("object");
    expect((r as { url: URL }).url.href).toBe("http://a.test/z?q");
  });

  test.each([
    [301, "POST", "GET", null],
    [302, "POST", "GET", null],
    [303, "POST", "GET", null],
    [303, "PUT", "GET", null],
    [303, "GET", "GET", null],
    [307, "POST", "POST", "b"],
    [308, "PUT", "PUT", "b"],
    [301, "PUT", "PUT", "b"],
  ])("%i with %s → %s, body %j", (status, method, expectedMethod, expectedBody) => {
    const r = followRedirect(base, status, "/n", method, "b");
    expect(r).toMatchObject({ method: expectedMethod, body: expectedBody });
  });

  test("origin change is flagged (scheme, host and port all count)", () => {
    expect(followRedirect(base, 302, "http://a.test/n", "GET", null)).toMatchObject({ crossOrigin: false });
    expect(followRedirect(base, 302, "https://a.test/n", "GET", null)).toMatchObject({ crossOrigin: true });
    expect(followRedirect(base, 302, "http://a.test:8080/n", "GET", null)).toMatchObject({ crossOrigin: true });
    expect(followRedirect(base, 302, "http://b.test/n", "GET", null)).toMatchObject({ crossOrigin: true });
  });

  test("non-http(s) or invalid Location is refused", () => {
    expect(typeof followRedirect(base, 302, "ftp://a.test/", "GET", null)).toBe("string");
    expect(typeof followRedirect(base, 302, "http://[bad", "GET", null)).toBe("string");
  });
});

describe("buildRequestHeaders", () => {
  test("Accept, Cache-Control and Pragma by default; user headers lower-cased and override", () => {
    expect(buildRequestHeaders(undefined, "", false, false)).toEqual({
      accept: "text/event-stream",
      "cache-control": "no-cache",
      pragma: "no-cache",
    });
    expect(buildRequestHeaders({ Accept: "text/event-stream, */*", "X-A": "1" }, "", false, false)).toEqual({
      accept: "text/event-stream, */*",
      "cache-control": "no-cache",
      pragma: "no-cache",
      "x-a": "1",
    });
  });

  test("pairs and Headers are accepted", () => {
    expect(buildRequestHeaders([["X-P", "1"]], "", false, false)["x-p"]).toBe("1");
    expect(buildRequestHeaders(new Headers({ "X-H": "2" }), "", false, false)["x-h"]).toBe("2");
  });

  test("sensitive headers are dropped case-insensitively after an origin change", () => {
    const user = { AUTHORIZATION: "a", Cookie: "c", "proxy-authorization": "p", "x-keep": "k" };
    expect(buildRequestHeaders(user, "", true, false)).toEqual({
      accept: "text/event-stream",
      "cache-control": "no-cache",
      pragma: "no-cache",
      "x-keep": "k",
    });
  });

  test("body headers are dropped with the body", () => {
    const h = buildRequestHeaders({ "Content-Type": "application/json", "x-k": "1" }, "", false, true);
    expect(h["content-type"]).toBeUndefined();
    expect(h["x-k"]).toBe("1");
  });

  test("Last-Event-ID is the UTF-8 bytes of the id as a latin1 string; a user value never wins", () => {
    const h = buildRequestHeaders({ "Last-Event-ID": "forged" }, "€", false, false);
    expect(h["last-event-id"]).toBe("\u00e2\u0082\u00ac");
    expect(Buffer.from(h["last-event-id"]!, "latin1").toString("utf8")).toBe("€");
    expect(buildRequestHeaders({ "Last-Event-ID": "forged" }, "", false, false)["last-event-id"]).toBeUndefined();
  });

  test("utf8AsLatin1 keeps ASCII as is", () => {
    const ascii = "abc-123";
    expect(utf8AsLatin1(ascii)).toBe(ascii);
  });

  test("normalizeMethod upper-cases the Fetch standard's methods only", () => {
    expect(normalizeMethod("post")).toBe("POST");
    expect(normalizeMethod("get")).toBe("GET");
    expect(normalizeMethod("patch")).toBe("patch");
  });
});
