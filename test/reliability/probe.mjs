// What the reliability scripts share: the server child, and the measures taken in the client
// process (descriptors, memory after a full collection, the server's view of connections).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { get } from "node:http";
import { fileURLToPath } from "node:url";

/** Starts sse-server.mjs in a child process; resolves to its base URL and a stop function. */
export function startServer() {
  const child = spawn(process.execPath, [fileURLToPath(new URL("sse-server.mjs", import.meta.url))], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", function first(chunk) {
      out += chunk;
      if (!out.includes("\n")) return;
      child.stdout.off("data", first);
      child.removeAllListeners("exit");
      const { port } = JSON.parse(out);
      resolve({
        url: `http://127.0.0.1:${port}/`,
        stop: () =>
          new Promise((done) => {
            child.once("exit", done);
            child.stdin.end();
          }),
      });
    });
  });
}

/** The server's count of open event streams and sockets (its own socket for this request excluded). */
export function serverStats(base) {
  return new Promise((resolve, reject) => {
    // agent: false, so this request neither takes nor leaves a socket in the global pool.
    get(`${base}stats`, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(JSON.parse(body)));
    }).on("error", reject);
  });
}

/** Open file descriptors of this process (Linux), or null where /proc is missing. */
export function fdCount() {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

/** The soft limit on open files (Node raises it to the hard limit at startup), or null. */
export function fdLimit() {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.trim().split(/\s+/)[3];
    return soft === "unlimited" ? Infinity : Number(soft);
  } catch {
    return null;
  }
}

const turn = () => new Promise((r) => setImmediate(r));

/**
 * Memory after full collections: several rounds with turns of the event loop between them, so
 * that what closed sockets and finished promises let go is really gone.
 */
export async function settledMemory() {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await turn();
    await new Promise((r) => setTimeout(r, 10));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Polls `check` (sync or async) until it returns true, or throws after `ms`, naming `what`. */
export async function waitFor(what, check, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Active handles other than stdio: sockets and timers a closed source must not leave behind. */
export function activeResources() {
  return process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap");
}
