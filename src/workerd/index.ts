// `eventsource-wasm` on workerd (Cloudflare Workers), through the package's "workerd" export
// condition: the web build (EventSource over fetch), with the parser module registered first
// (./parser.ts). In dist/ this is workerd.js beside workerd-parser.js and web.js.
import "./parser.js";

export * from "../index.js";
