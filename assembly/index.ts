// Exports only; see parser.ts for the state machine and abi.ts for the memory contract.
export { feed, resume } from "./parser";
export { save } from "./state";
export { input, records, state, arena, wide } from "./memory";
export { utf16 } from "./utf16";
