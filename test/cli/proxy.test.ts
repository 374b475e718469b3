// proxy.ts: which proxy a request goes through, in process; and, through the built command,
// requests through a forward proxy on 127.0.0.1.
import { describe, expect, test } from "vitest";
import { bypassesProxy, proxyFor } from "../../src/cli/proxy.js";
import { CERT, dataOf, once, runCli, serve, serveTls, startProxy, useCli } from "../support/cli.js";

useCli();

describe("proxy selection", () => {
  const u = (s: string) => new URL(s);
  test("by scheme, lower case first, ALL_PROXY last; a proxy without scheme is http://", () => {
    const env = { HTTPS_PROXY: "secure:3128", http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2", ALL_PROXY: "http://all:9" };
    expect(proxyFor(u("https://a.example/"), undefined, env)).toBe("http://secure:3128");
    expect(proxyFor(u("http://a.example/"), undefined, env)).toBe("http://lower:1");
    expect(proxyFor(u("https://a.example/"), undefined, { ALL_PROXY: "http://all:9" })).toBe("http://all:9");
    expect(proxyFor(u("https://a.example/"), undefined, {})).toBeNull();
    expect(proxyFor(u("https://a.example/"), "flag:8080", env)).toBe("http://flag:8080");
    expect(proxyFor(u("https://a.example/"), "", env)).toBeNull();
  });

  test.each([
    ["example.com", "https://example.com/", true],
    ["example.com", "https://api.example.com/", true],
    [".example.com", "https://api.example.com/", true],
    ["*.example.com", "https://api.example.com/", true],
    ["example.com", "https://notexample.com/", false],
    ["127.0.0.1", "http://127.0.0.1:8080/", true],
    ["127.0.0.1:8080", "http://127.0.0.1:8080/", true],
    ["127.0.0.1:9090", "http://127.0.0.1:8080/", false],
    ["localhost:443", "https://localhost/", true],
    ["::1", "http://[::1]:8080/", true],
    ["[::1]:8080", "http://[::1]:8080/", true],
    ["*", "http://anything/", true],
    [" other , EXAMPLE.com ", "http://example.com/", true],
    ["", "http://example.com/", false],
  ])("NO_PROXY=%j for %s: %s", (noProxy, url, bypass) => {
    expect(bypassesProxy(u(url), noProxy)).toBe(bypass);
    expect(proxyFor(u(url), "http://p:1", { no_proxy: noProxy })).toBe(bypass ? null : "http://p:1");
  });
});


describe.concurrent("the built command through a proxy", () => {
  const tlsStream = once("retry: 10\nid: 3\ndata: over tls\n\n");

  test("-x: plain http goes to the proxy in absolute form, with Proxy-Authorization from the URL", async () => {
    const proxy = await startProxy();
    const s = await serve(once("retry: 10\ndata: via proxy\n\n"));
    const r = await runCli([s.url, "-x", proxy.url.replace("http://", "http://us%65r:p%40ss@")]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["via proxy"]);
    expect(proxy.seen[0]).toEqual({
      method: "GET",
      target: s.url,
      auth: `Basic ${Buffer.from("user:p@ss").toString("base64")}`,
    });
    expect(s.requests).toHaveLength(2);
  });

  test("HTTPS_PROXY: https goes through a CONNECT tunnel (the proxy sees host and port only)", async () => {
    const proxy = await startProxy();
    const s = await serveTls(tlsStream);
    const r = await runCli([s.url, "--cacert", CERT], { env: { HTTPS_PROXY: proxy.url } });
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["over tls"]);
    expect(proxy.seen.map((x) => `${x.method} ${x.target}`)).toEqual([`CONNECT 127.0.0.1:${s.port}`, `CONNECT 127.0.0.1:${s.port}`]);
  });

  test("HTTP_PROXY is used for http, and NO_PROXY bypasses it", async () => {
    const proxy = await startProxy();
    const s = await serve(once("retry: 10\ndata: a\n\n"));
    const via = await runCli([s.url], { env: { HTTP_PROXY: proxy.url } });
    expect(dataOf(via.stdout)).toEqual(["a"]);
    expect(proxy.seen).toHaveLength(2);
    const s2 = await serve(once("retry: 10\ndata: b\n\n"));
    const direct = await runCli([s2.url, "-x", proxy.url], { env: { NO_PROXY: "example.com, 127.0.0.1" } });
    expect(dataOf(direct.stdout)).toEqual(["b"]);
    expect(proxy.seen).toHaveLength(2);
    expect(s2.requests).toHaveLength(2);
  });
});
