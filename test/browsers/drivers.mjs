// The browsers of the suite (scripts/test-browsers.mjs), each behind one small interface:
// { name, version, open(url), openTab(url): { close() }, takeConsole(): string[] | null,
// close() }. `openTab` loads a page in a new tab or window beside the first (the
// SharedEventSource cases); its close() closes that tab as a user does. Chromium and Firefox
// ESR through puppeteer-core (Firefox over WebDriver BiDi), WebKitGTK through WebKitWebDriver
// under Xvfb. The system's browsers (Debian's packages), or those the env variables name.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? "/usr/bin/WebKitWebDriver";
export const LAUNCH_MS = 60_000;
export const STEP_MS = 20_000;


export function bounded(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms))),
  ]);
}

/** Chromium or Firefox through puppeteer-core: one page, navigated once per case. */
export async function puppeteerBrowser(name) {
  const { default: puppeteer } = await import("puppeteer-core");
  const profile = name === "chromium" ? mkdtempSync(join(tmpdir(), "esw-chromium-")) : null;
  const options =
    name === "chromium"
      ? {
          browser: "chrome",
          executablePath: CHROMIUM,
          userDataDir: profile,
          args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        }
      : { browser: "firefox", executablePath: FIREFOX };
  const cleanup = () => profile && rmSync(profile, { recursive: true, force: true });
  let browser;
  try {
    browser = await puppeteer.launch({ ...options, headless: true, timeout: LAUNCH_MS, protocolTimeout: STEP_MS });
  } catch (error) {
    cleanup();
    throw error;
  }
  let tab;
  try {
    tab = await bounded(browser.newPage(), STEP_MS, "new page");
  } catch (error) {
    await browser.close().catch(() => {});
    cleanup();
    throw error;
  }
  let consoleErrors = [];
  tab.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  tab.on("pageerror", (e) => consoleErrors.push(String(e?.message ?? e)));
  return {
    name,
    version: await browser.version(),
    open: (url) => tab.goto(url, { timeout: STEP_MS, waitUntil: "load" }),
    async openTab(url) {
      const other = await browser.newPage();
      try {
        await other.goto(url, { timeout: STEP_MS, waitUntil: "load" });
      } catch (error) {
        await other.close().catch(() => {});
        throw error;
      }
      return { close: () => other.close() };
    },
    takeConsole() {
      const out = consoleErrors;
      consoleErrors = [];
      return out;
    },
    async close() {
      await bounded(browser.close(), STEP_MS, "closing").catch(() => browser.process()?.kill("SIGKILL"));
      cleanup();
    },
  };
}

function stop(child) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL"); // its process group: the driver's browser too
    } catch {}
  }
}

/** WebKitGTK: WebKitWebDriver (W3C WebDriver over HTTP, called with fetch) under Xvfb. */
export async function webkitBrowser() {
  // The browser WebKitWebDriver starts: Debian ships it in /usr/lib/<multiarch>/<API version>/.
  const mini =
    process.env.MINIBROWSER_PATH ??
    readdirSync("/usr/lib")
      .flatMap((arch) => ["webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"].map((api) => join("/usr/lib", arch, api, "MiniBrowser")))
      .find((path) => existsSync(path));
  if (!existsSync(WEBKIT_DRIVER) || mini === undefined) throw new Error("WebKitWebDriver or MiniBrowser missing (apt-get install -y webkit2gtk-driver)");
  const children = [];
  const close = async (session) => {
    if (session) await bounded(call("DELETE", `/session/${session}`), 10_000, "closing").catch(() => {});
    for (const child of children.reverse()) stop(child);
  };
  let base;
  async function call(method, path, body) {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(LAUNCH_MS),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error} ${json.value?.message ?? ""}`);
    return json.value;
  }
  try {
    const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      detached: true,
    });
    children.push(xvfb);
    const display = await bounded(
      new Promise((ok, fail) => {
        xvfb.stdio[3].on("data", (d) => ok(String(d).trim()));
        xvfb.on("exit", (code) => fail(new Error(`Xvfb exited (${code})`)));
        xvfb.on("error", fail);
      }),
      STEP_MS,
      "Xvfb",
    );
    const probe = createServer();
    await new Promise((ok) => probe.listen(0, "127.0.0.1", ok));
    const port = probe.address().port;
    await new Promise((ok) => probe.close(ok));
    const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: `:${display}` }, stdio: "ignore", detached: true });
    children.push(driver);
    base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    while (!(await fetch(`${base}/status`).then((r) => r.ok, () => false))) {
      if (Date.now() - started > STEP_MS) throw new Error("WebKitWebDriver did not start");
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const { sessionId, capabilities } = await call("POST", "/session", {
      capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: mini, args: ["--automation"] } } },
    });
    await call("POST", `/session/${sessionId}/timeouts`, { pageLoad: STEP_MS, script: STEP_MS });
    const session = `/session/${sessionId}`;
    const first = await call("GET", `${session}/window`);
    // WebDriver acts on one window at a time: each step switches to its window, and back to
    // the first, which open() navigates.
    const inWindow = async (handle, step) => {
      await call("POST", `${session}/window`, { handle });
      try {
        return await step();
      } finally {
        await call("POST", `${session}/window`, { handle: first });
      }
    };
    return {
      name: "webkit",
      version: `WebKitGTK ${capabilities.browserVersion}`,
      open: (url) => call("POST", `${session}/url`, { url }),
      async openTab(url) {
        const { handle } = await call("POST", `${session}/window/new`, { type: "window" });
        const closeWindow = () => inWindow(handle, () => call("DELETE", `${session}/window`));
        try {
          await inWindow(handle, () => call("POST", `${session}/url`, { url }));
        } catch (error) {
          await closeWindow().catch(() => {});
          throw error;
        }
        return { close: closeWindow };
      },
      takeConsole: () => null, // classic WebDriver has no console log
      close: () => close(sessionId),
    };
  } catch (error) {
    await close();
    throw error;
  }
}

