// What workerd and Wrangler make of an imported `.wasm` file: a compiled module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
