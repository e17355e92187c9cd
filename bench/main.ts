/**
 * `npm run bench -- <suite> [flags]`: runs one benchmark suite and prints its JSON result on stdout
 * (progress goes to stderr). Suites: standalone (default), cluster, raft, bank, tls, vs-etcd, schema, scale, cpu,
 * disk.
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
  cpu: () => import("./cpu.js"),
  disk: () => import("./disk.js")
}

const usage = `usage: npm run bench -- <suite> [flags] [--out FILE]

Prints one JSON document on stdout (progress on stderr); --out FILE also writes it. Suites:
  standalone  W1/W2/W3 against \`tinykv server --standalone\` [--workloads W1,W3]   (the default)
  cluster     W1/W2/W3 against a scheduler and 3 stores [--workloads W1,W2,W3] [--ops W1=20000,W3=2000]
              [--seed 42] [--tls] [--read-paths lease,readIndex,log] [--ops-scale 1] [--warmup 0]
              [--raft-engine log|lmdb]
  vs-etcd     the same workloads beside a fresh 3-member etcd [--reps 2] [--workloads W1,W2,W3]
              [--ops W1=20000,W2=20000,W3=2000] [--seed 42] [--regions 1] [--warmup 10000]
              [--raft-engine log|lmdb]
  cpu         µs of CPU per put (or get) per process [--stores 3] [--clients 64] [--ops 20000] [--reps 3] [--get]
  disk        one durable write: an LMDB commit against a write-ahead log [--ops 1000] [--writers 3] [--reps 2]
  scale       idle CPU and RSS with many regions [--regions 10000] [--keys 1000000] [--idle-seconds 30] ...
  raft        the Raft core alone
  schema      µs per decode/encode of the hottest payloads
  bank        transfers through transactions, audited [--clients 8] [--seconds 30] [--accounts 100]
  tls         the cluster workloads in plain TCP, then in mutual TLS [--ops-scale 0.2] [--logs DIR]
Each suite's flags are described at the top of its file in bench/ and in docs/PERFORMANCE.md.`

const [first, ...rest] = process.argv.slice(2)
if (first === "--help" || first === "-h" || rest.includes("--help")) {
  console.log(usage)
  process.exit(0)
}
const name = first === undefined || first.startsWith("--") ? "standalone" : first
const args = first === undefined || first.startsWith("--") ? process.argv.slice(2) : rest
const load = suites[name]
if (!load) {
  console.error(`unknown benchmark "${name}"; choose one of: ${Object.keys(suites).join(", ")} (--help for more)`)
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
