// `eventsource-wasm/parser` on workerd (Cloudflare Workers), through the package's "workerd"
// export condition: workerd compiles a `.wasm` file imported at build time into a
// WebAssembly.Module (Wrangler's default rule for `*.wasm`; a `wasm` module in a workerd
// config), where compiling the embedded bytes at run time is refused. In dist/ this file is
// workerd-parser.js, beside parser.js (which it registers the module with) and parser.wasm.
import wasm from "./parser.wasm";
import { useWasmModule } from "../parser/index.js";

useWasmModule(wasm);

export * from "../parser/index.js";
