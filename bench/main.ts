/**
 * `npm run bench -- <suite> [flags]`: runs one benchmark suite and prints its JSON result on stdout
 * (progress goes to stderr). Suites: standalone (default), cluster, raft, bank, tls, vs-etcd, schema, scale, cpu.
 * `--out FILE` also writes it.
 */
import { writeFileSync } from "node:fs"

const suites: Record<string, () => Promise<{ run: (args: Array<string>) => Promise<unknown> }>> = {
  standalone: () => import("./standalone.js"),
  cluster: () => import("./cluster.js"),
  raft: () => import("./raft.js"),
  bank: () => import("./bank.js"),
  tls: () => import("./tls.js"),
  "vs-etcd": () => import("./vsEtcd.js"),
  schema: () => import("./schema.js"),
  scale: () => import("./scale.js"),
  cpu: () => import("./cpu.js")
}

const [first, ...rest] = process.argv.slice(2)
const name = first === undefined || first.startsWith("--") ? "standalone" : first
const args = first === undefined || first.startsWith("--") ? process.argv.slice(2) : rest
const load = suites[name]
if (!load) {
  console.error(`unknown benchmark "${name}"; choose one of: ${Object.keys(suites).join(", ")}`)
  process.exit(2)
}
const result = {
  machine: { cores: (await import("node:os")).cpus().length, node: process.version },
  ...((await (await load()).run(args)) as object)
}
const json = JSON.stringify(result, null, 2)
console.log(json)
const out = args.indexOf("--out")
if (out >= 0 && args[out + 1]) writeFileSync(args[out + 1]!, `${json}\n`)
process.exit(0)
