import type { FetchLike } from "../../src/client/transport/types.js";

/** A fetch that answers every call with `body` and the given status and type; `inits` records each call's init. */
export function fakeFetch(body: () => unknown, status = 200, type = "text/event-stream"): FetchLike & { inits: unknown[] } {
  const inits: unknown[] = [];
  const f = (async (_url: string, init: unknown) => {
    inits.push(init);
    return { status, statusText: "", headers: new Headers({ "content-type": type }), body: body() };
  }) as unknown as FetchLike & { inits: unknown[] };
  f.inits = inits;
  return f;
}
