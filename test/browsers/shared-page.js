// A page (tab) of a SharedEventSource case (test/browsers/shared-cases.mjs): opens the
// shared source its spec names and posts what it saw to the page server after each change
// (and every 100 ms), one request at a time. The answer may ask it to close() the source.
import { SharedEventSource } from "/dist/shared.js";

const spec = JSON.parse(new URLSearchParams(location.search).get("spec"));
/** `ids`: each message's lastEventId; `conns`: its data, the feed's connection number. */
const state = { ids: [], conns: [], errors: [], opens: 0, readyState: null, holder: false, pageErrors: [] };
addEventListener("error", (e) => state.pageErrors.push(String(e.message)));
addEventListener("unhandledrejection", (e) => state.pageErrors.push(String(e.reason)));

let source = null;
try {
  source = new SharedEventSource(spec.url, spec.init);
  source.addEventListener("open", () => (state.opens++, push()));
  source.addEventListener("error", (e) => (state.errors.push(e.code ?? "error"), push()));
  source.addEventListener("message", (e) => {
    state.ids.push(Number(e.lastEventId));
    state.conns.push(Number(e.data));
    push();
  });
} catch (error) {
  state.pageErrors.push(`threw ${error}`);
}

let inFlight = false;
let again = false;
function push() {
  if (inFlight) return void (again = true);
  inFlight = true;
  state.readyState = source?.readyState ?? null;
  state.holder = source?.holder ?? false;
  fetch(`/shared-state?run=${encodeURIComponent(spec.run)}&page=${spec.page}`, { method: "POST", body: JSON.stringify(state) })
    .then((res) => res.json())
    .then((command) => {
      if (command.close && source?.readyState !== 2) {
        source.close();
        again = true;
      }
    })
    .catch(() => {})
    .finally(() => {
      inFlight = false;
      if (again) {
        again = false;
        push();
      }
    });
}
setInterval(push, 100);
push();
