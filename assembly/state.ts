// The stream's state while it is fed, in globals, and the state block that JS swaps it through
// (`save` out; S_LOAD in, read by `feed`): one Instance serves every parser in the process.
// Also the globals of one call, which the parser, the scanner and `shortEvents` share.

import {
  S_BOM_BYTES, S_AFTER_CR, S_LINE_LEN, S_LINE_HIGH, S_SKIP_LINE, S_DATA_LEN, S_DATA_HIGH,
  S_TYPE_LEN, S_TYPE_HIGH, S_DISCARDING, S_ID_DIRTY, S_MAX_EVENT_SIZE,
  S_COMMENTS, S_PENDING, S_BASE, S_ID_HELD, S_ID_HIGH, S_LOAD,
} from "./abi";
import { state } from "./memory";

// The stream's state: loaded from the state block by `feed` when S_LOAD says so (the
// pointers and `dataOwned` are derived there), stored there by `save` (see abi.ts).
export let bomBytes: u32 = 0;
export let afterCR: u32 = 0;
export let lineLen: u32 = 0;
export let lineHigh: u32 = 0;
export let skipLine: u32 = 0;
export let dataPtr: usize = 0;
export let dataLen: u32 = 0;
export let dataHigh: u32 = 0;
export let dataOwned: u32 = 0;
export let typePtr: usize = 0;
export let typeLen: u32 = 0;
export let typeHigh: u32 = 0;
export let discarding: u32 = 0;
export let idDirty: u32 = 0;
export let maxEventSize: u32 = 0;
export let comments: u32 = 0;

// Per call.
export let end: usize = 0; // end of the bytes in the input window: `arena`
export let callStart: usize = 0; // the call's first byte in the input window (REC_WINDOW_EVENT offsets)
export let cur: usize = 0; // next byte to scan
export let top: usize = 0; // arena bytes below this may be referenced by records: never overwrite
export let rc: i32 = 0; // words written to the record table
export let scanHigh: u32 = 0; // OR of the bytes passed over by the last scan
export let keepLine = false; // processLine left a span pointing into the line it was given
export let refEnd: usize = 0; // end of the highest arena span a record of this call points at
export let refBytes: u32 = 0; // bytes of the arena spans records of this call point at
export let base: usize = 0; // where finish() left the pending bytes
export let endsEnd: usize = 0; // the end of the entries in `ends`
export let nextEnd: usize = 0; // the next entry of `ends` to look at
export let windowAscii = false; // no byte of the chunk (after `cur` at the start) is >= 0x80
export let joinEnd: usize = 0; // end of the joined area's bytes in this call (or since `resume`)
export let idHeld = false; // an id field that no record has carried yet (stream state):
export let idPtr: usize = 0;
export let idLen: u32 = 0;
export let idHigh: u32 = 0;
export let prevTypeLen: u32 = 0xffffffff; // bytes at `prevType`; 0xffffffff: none

@inline export function getState(i: i32): u32 {
  return load<u32>(state + (<usize>i << 2));
}
@inline export function setState(i: i32, v: u32): void {
  store<u32>(state + (<usize>i << 2), v);
}

export function loadState(): void {
  base = getState(S_BASE);
  bomBytes = getState(S_BOM_BYTES);
  afterCR = getState(S_AFTER_CR);
  lineLen = getState(S_LINE_LEN);
  lineHigh = getState(S_LINE_HIGH);
  skipLine = getState(S_SKIP_LINE);
  dataLen = getState(S_DATA_LEN);
  dataHigh = getState(S_DATA_HIGH);
  typeLen = getState(S_TYPE_LEN);
  typeHigh = getState(S_TYPE_HIGH);
  discarding = getState(S_DISCARDING);
  idDirty = getState(S_ID_DIRTY);
  maxEventSize = getState(S_MAX_EVENT_SIZE);
  comments = getState(S_COMMENTS);
  // Not in the state block: a stream moved in has to send its next type again.
  prevTypeLen = 0xffffffff;
  const held = getState(S_ID_HELD);
  idHeld = held != 0;
  idLen = held - 1;
  idHigh = getState(S_ID_HIGH);
}

/** Writes the stream's state to the state block, for JS to swap it out. */
export function save(): void {
  // Written by JS and not fed since: the block already holds it, the globals do not.
  if (getState(S_LOAD)) return;
  setState(S_BOM_BYTES, bomBytes);
  setState(S_AFTER_CR, afterCR);
  setState(S_LINE_LEN, lineLen);
  setState(S_LINE_HIGH, lineHigh);
  setState(S_SKIP_LINE, skipLine);
  setState(S_DATA_LEN, dataLen);
  setState(S_DATA_HIGH, dataHigh);
  setState(S_TYPE_LEN, typeLen);
  setState(S_TYPE_HIGH, typeHigh);
  setState(S_DISCARDING, discarding);
  setState(S_ID_DIRTY, idDirty);
  setState(S_ID_HELD, idHeld ? idLen + 1 : 0);
  setState(S_ID_HIGH, idHigh);
  setState(S_PENDING, typeLen + dataLen + heldIdLen() + lineLen);
  setState(S_BASE, <u32>base);
}

/** Bytes of the held id in the pending bytes. */
@inline export function heldIdLen(): u32 {
  return idHeld ? idLen : 0;
}

