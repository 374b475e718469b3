#!/usr/bin/env node
// `eventsource-wasm`: the command. The shebang above is kept by esbuild at the top of
// dist/cli.js, which package.json's "bin" points to. This module runs on import: it picks the
// command (`eventsource-wasm <url>` in run.ts, or a subcommand) and exits with its status.

import { HELP, parseCli, SUBCOMMANDS, type Subcommand } from "./args.js";
import { EXIT, thrownMessage, UsageError } from "./exit.js";
import { run } from "./run.js";
import pkg from "../../package.json" with { type: "json" };

/**
 * Each subcommand's entry, loaded only when it runs (`ingest` brings the optional NATS
 * packages). A Record over args.ts's list, so --help and the commands cannot disagree.
 */
const SUBCOMMAND_RUNNERS: Record<Subcommand, () => Promise<(argv: readonly string[]) => Promise<number>>> = {
  ingest: async () => (await import("./ingest.js")).runIngest,
  record: async () => (await import("./record.js")).runRecord,
  replay: async () => (await import("./replay.js")).runReplay,
};

function isSubcommand(name: string | undefined): name is Subcommand {
  return name !== undefined && Object.hasOwn(SUBCOMMANDS, name);
}

function writeAll(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.once("error", () => resolve());
    stream.write(text, () => resolve());
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (isSubcommand(first)) return (await SUBCOMMAND_RUNNERS[first]())(rest);
  const parsed = parseCli(argv);
  switch (parsed.kind) {
    case "help":
      await writeAll(process.stdout, HELP);
      return EXIT.OK;
    case "version":
      await writeAll(process.stdout, `${pkg.version}\n`);
      return EXIT.OK;
    case "usage-error":
      process.stderr.write(`error: ${parsed.message}\nTry 'eventsource-wasm --help' for usage.\n`);
      return EXIT.USAGE;
    case "run":
      try {
        return await run(parsed.options, argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        process.stderr.write(`${thrownMessage(error)}\n`);
        return EXIT.USAGE;
      }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a socket or timer still closing must not keep a finished CLI alive.
    // stdout has been flushed by then (BatchWriter.end waits for the write callback).
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`${thrownMessage(error)}\n`);
    process.exit(EXIT.FAILED);
  },
);
