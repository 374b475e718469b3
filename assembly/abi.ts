// The contract between assembly/ and src/parser/wasm.ts. Plain `export const` lines only:
// this file is compiled by both asc and tsc.

/**
 * Bytes of the input window: JS copies at most this much of a chunk per call, so that it
 * ends where the arena begins (one latin1 decode can then cover both).
 */
export const WINDOW_SIZE = 65536;
/** Capacity of the record table, in i32 words. */
export const RECORD_WORDS = 8192;
/**
 * A line emits at most 7 words and the end of a call 4 more: `feed` pauses before a line
 * when less than this is left.
 */
export const MAX_WORDS_PER_LINE = 11;
/** Set in what `feed` and `resume` return when the table filled up: read it, then `resume`. */
export const PAUSED = 0x40000000;

// The fields a line can name ("data", "event", "retry", "id"), as both engines number them.
export const FIELD_NONE = 0;
export const FIELD_DATA = 1;
export const FIELD_EVENT = 2;
export const FIELD_RETRY = 3;
export const FIELD_ID = 4;

// Record kinds: the low byte of a record's first word; flags sit above it.
/**
 * [head, typePtr, typeLen, dataPtr, dataLen] (typeLen 0 means "message"), then with
 * FLAG_ID [idPtr, idLen].
 */
export const REC_EVENT = 1;
/**
 * [head], then with FLAG_ID [idPtr, idLen]: the last event ID string := the last event ID
 * buffer.
 */
export const REC_COMMIT = 3;
/** [head, ptr, len]: an all-digit retry value. */
export const REC_RETRY = 4;
/** [head, ptr, len]: comment text. */
export const REC_COMMENT = 5;
/** [head]: EVENT_TOO_LARGE. */
export const REC_ERROR = 6;
/**
 * [head, typeStart, typeEnd, dataStart, dataEnd, idStart, idEnd]: an event of the usual shape
 * (SIMD build), with an id field that it commits. Every span is ASCII and in the input
 * window, given as offsets from the call's first byte, so that each is a substring of the
 * call's one latin1 decode with no check (typeStart == typeEnd: "message"). Flags:
 * FLAG_SAME_TYPE only.
 */
export const REC_WINDOW_EVENT = 7;

/** RETRY, COMMENT: the value is all ASCII. EVENT: the type is all ASCII. */
export const FLAG_ASCII = 0x100;
/** EVENT: the data is all ASCII. */
export const FLAG_DATA_ASCII = 0x200;
/** EVENT: commit the last event ID buffer before dispatching. */
export const FLAG_COMMIT = 0x400;
/**
 * EVENT: the type has the same bytes as the previous event's of this stream (remembered while
 * it is at most TYPE_KEEP bytes and the stream stays in the Instance).
 */
export const FLAG_SAME_TYPE = 0x800;
/** Bytes of the previous event's type that the module keeps for FLAG_SAME_TYPE. */
export const TYPE_KEEP = 64;
/**
 * EVENT, COMMIT: first, the last event ID buffer := the id span that follows. The module
 * holds an id field until the blank line that commits it (across calls, in the pending
 * bytes), so that one record carries both.
 */
export const FLAG_ID = 0x1000;
/** With FLAG_ID: the id is all ASCII. */
export const FLAG_ID_ASCII = 0x2000;
/**
 * The span (the type for EVENT; the value for COMMIT, COMMENT), which is not all ASCII,
 * was also copied to the joined area, followed by a CR. The spans of a call that carry one
 * of these flags are there in the order JS reads them (type, data, id), so one decode (`utf16`)
 * of the area gives them all, split at the CRs (no span holds a CR; decoding a CR ends any
 * unfinished sequence the way the end of a span alone would).
 */
export const FLAG_JOINED = 0x4000;
/** EVENT: the data was copied to the joined area. */
export const FLAG_DATA_JOINED = 0x8000;
/** EVENT with FLAG_ID: the id was copied to the joined area. */
export const FLAG_ID_JOINED = 0x10000;
/** Bytes of the joined area. */
export const JOIN_SIZE = 65536;
/** Longer spans are decoded on their own: the cost of a decode call is then small. */
export const JOIN_MAX = 4096;

// Per-stream state: i32 words at `state` (written by `save`). Between feeds the pending bytes
// sit at S_BASE as [type][id][data][line], so a parser's whole state is these words plus
// S_PENDING bytes, which JS swaps out when another parser uses the shared instance.
export const S_BOM_BYTES = 0; // BOM bytes matched so far; 3 once past the stream start
export const S_AFTER_CR = 1; // the previous chunk ended in CR: a leading LF is not a new line
export const S_LINE_LEN = 2; // bytes of the unfinished line
export const S_LINE_HIGH = 3; // the unfinished line has a byte >= 0x80
export const S_SKIP_LINE = 4; // the rest of the current line is dropped (too large)
export const S_DATA_LEN = 5; // as the spec counts it: every value plus its LF
export const S_DATA_HIGH = 6;
export const S_TYPE_LEN = 7;
export const S_TYPE_HIGH = 8;
export const S_DISCARDING = 9;
export const S_ID_DIRTY = 10; // an id field was seen since the last commit
export const S_MAX_EVENT_SIZE = 11; // maxEventSize as u32; 0xFFFFFFFF is unbounded
export const S_COMMENTS = 12; // 1 when comments are wanted
export const S_PENDING = 13; // bytes at S_BASE that belong to this stream
export const S_BASE = 14; // where the pending bytes are (0: at `arena`)
// An id field that no record has carried yet (its commit is to come): its length + 1, or 0.
export const S_ID_HELD = 15;
export const S_ID_HIGH = 16;
// Not stream state: set by every call, for JS. The end of the highest arena span that a
// record of the call points at (0: none).
export const S_REF_END = 17;
// Also per call: the bytes of those arena spans, summed.
export const S_REF_BYTES = 18;
// Set by JS when it has written a stream's state here: `feed` must load it. Otherwise the
// Instance's globals already hold the state of the stream being fed.
export const S_LOAD = 19;
export const STATE_WORDS = 20;
