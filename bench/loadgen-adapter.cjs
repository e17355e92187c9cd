// Adapter for an external closed-loop load generator (the team's, not in this repository): lets it drive
// TinyKV-TS exactly as it drives etcd and redis. CommonJS, as the loadgen requires.
//   node loadgen/bench.js --adapter /path/to/bench/loadgen-adapter.cjs --endpoints 127.0.0.1:2379 ...
// An endpoint is a scheduler address (cluster, the default) or, with --tinykv-standalone, a store address.
const path = require("node:path")
const { pathToFileURL } = require("node:url")

let lib
const load = async () => (lib ??= await import(pathToFileURL(path.join(__dirname, "../dist/index.js")).href))

module.exports = {
  name: "tinykv-ts",
  async connect({ endpoint, args }) {
    const { connect } = await load()
    const standalone = Array.isArray(args) ? args.includes("--tinykv-standalone") : Boolean(args?.["tinykv-standalone"])
    const kv = await connect(standalone ? { store: endpoint } : { scheduler: endpoint })
    return {
      put: (key, value) => kv.put(key, value),
      get: async (key) => {
        const v = await kv.get(key)
        return v === undefined ? null : Buffer.from(v)
      },
      close: () => kv.close()
    }
  }
}
