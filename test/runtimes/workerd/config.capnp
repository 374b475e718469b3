# workerd configs for the runtime smoke suite (scripts/test-runtimes.mjs copies this file
# beside the bundled worker.js and the package's parser.wasm, then runs
# `workerd serve config.capnp <current|old> --control-fd 3`). The two differ only in the
# compatibility date: the binary's own date (to move with the devDependency), and 2024-01-01,
# before workerd accepted a request's `cache` field.
using Workerd = import "/workerd/workerd.capnp";

const current :Workerd.Config = (
  services = [(name = "main", worker = .currentWorker), .network],
  sockets = [.socket],
);

const old :Workerd.Config = (
  services = [(name = "main", worker = .oldWorker), .network],
  sockets = [.socket],
);

const currentWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-17",
  globalOutbound = "network",
);

const oldWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2024-01-01",
  globalOutbound = "network",
);

# As Wrangler uploads a worker that imports a .wasm file: the bundle, and the file as a
# compiled module beside it.
const modules :List(Workerd.Worker.Module) = [
  (name = "worker.js", esModule = embed "worker.js"),
  (name = "parser.wasm", wasm = embed "parser.wasm"),
];

# The worker's fetch() reaches the test server on 127.0.0.1: the default outbound allows
# only public addresses.
const network :Workerd.Service = (name = "network", network = (allow = ["public", "private", "local"]));

# Port 0: workerd reports the one it bound on the control descriptor.
const socket :Workerd.Socket = (name = "http", address = "127.0.0.1:0", http = (), service = "main");
