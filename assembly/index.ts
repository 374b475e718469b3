// Exports only; see parser.ts for the state machine and abi.ts for the memory contract.
export { feed, resume, save, input, records, state, arena, wide, utf16 } from "./parser";
