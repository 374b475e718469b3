// default.ts in the browser build: the global fetch, as in every build without node:http.
export { defaultTransport } from "./default.web.js";
