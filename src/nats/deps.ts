// The NATS client packages are optional peer dependencies: the core package has no runtime
// dependency, and only `ingest` needs them. They are loaded with import() on first use, so
// nothing that imports this entry (or runs the core CLI) touches them until then.

import type * as TransportNode from "@nats-io/transport-node";
import type * as JetStream from "@nats-io/jetstream";
import type * as Kv from "@nats-io/kv";

export const NATS_PACKAGES = ["@nats-io/transport-node", "@nats-io/jetstream", "@nats-io/kv"] as const;

export interface NatsModules {
  transport: typeof TransportNode;
  jetstream: typeof JetStream;
  kv: typeof Kv;
}

/** A NATS client package could not be loaded: the message names them and how to add them. */
export class NatsDependencyError extends Error {
  override readonly name = "NatsDependencyError";
  readonly code = "NATS_PACKAGES_MISSING";
  readonly missing: readonly string[];
  constructor(missing: readonly string[], cause: unknown) {
    super(
      `eventsource-wasm/nats needs the NATS client packages ${NATS_PACKAGES.join(", ")} ` +
        `(missing: ${missing.join(", ")}). Install them with: npm install ${NATS_PACKAGES.join(" ")}`,
      { cause },
    );
    this.missing = missing;
  }
}

let loaded: Promise<NatsModules> | undefined;

async function load(name: string): Promise<unknown> {
  // A specifier in a variable: bundlers leave it alone, and the package stays external.
  return import(name);
}

/** Load the three packages once; reject with a NatsDependencyError naming what is missing. */
export function loadNats(): Promise<NatsModules> {
  loaded ??= (async () => {
    const results = await Promise.allSettled(NATS_PACKAGES.map(load));
    const missing = NATS_PACKAGES.filter((_, i) => results[i]!.status === "rejected");
    if (missing.length > 0) {
      const first = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      loaded = undefined; // installing the packages later in the same process may still work
      throw new NatsDependencyError(missing, first.reason);
    }
    const [transport, jetstream, kv] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
    return {
      transport: transport as typeof TransportNode,
      jetstream: jetstream as typeof JetStream,
      kv: kv as typeof Kv,
    };
  })();
  return loaded;
}
