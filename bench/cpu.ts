/**
 * CPU per operation of every process of a local cluster, side by side: the client (this process) and each
 * store, over a closed loop of puts (or gets) by many clients — the figure to watch when cutting the cost of
 * a request, which the two cores of this machine kind share between all four processes.
 *
 * `npm run bench -- cpu [--stores 3] [--clients 64] [--ops 20000] [--reps 3] [--get]`: a fresh cluster of
 * `--stores` stores (what `npm start` runs), `--clients` cluster clients (the Promise facade, one
 * connection each, as the `cluster` suite), then `--reps` runs of `--ops` puts of 128 B over 100,000 keys
 * (with `--get`: gets of keys written first). Per run: ops/s, and µs of CPU per operation of the client
 * (`process.cpuUsage`) and of each store (utime + stime of /proc/PID/stat; Linux only), the leader's first,
 * with each store's RaftWorker rounds and engine writes per operation (from its `/metrics`).
 * The first run warms the JIT and the region caches: compare the later ones.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { connect, type KvConnection } from "../src/client/promise.js"
import { startLocalCluster } from "../src/process/index.js"
import { flagOf } from "./flags.js"
import { countersOf, cpuSeconds, pidOf } from "./procStats.js"

const loop = async (
  conns: ReadonlyArray<KvConnection>,
  ops: number,
  op: (kv: KvConnection, i: number) => Promise<unknown>
) => {
  let next = 0
  await Promise.all(
    conns.map(async (kv) => {
      for (;;) {
        const i = next++
        if (i >= ops) return
        await op(kv, i)
      }
    })
  )
}

export const run = async (args: ReadonlyArray<string>) => {
  const stores = Number(flagOf(args, "stores") ?? 3)
  const clients = Number(flagOf(args, "clients") ?? 64)
  const ops = Number(flagOf(args, "ops") ?? 20_000)
  const reps = Number(flagOf(args, "reps") ?? 3)
  const gets = args.includes("--get")
  const value = new Uint8Array(128).fill(7)
  const keyOf = (i: number) => `key-${String(i % 100_000).padStart(6, "0")}`
  return Effect.gen(function* () {
    const cluster = yield* startLocalCluster({ stores })
    yield* cluster.waitUntilWritable("60 seconds")
    const pids = cluster.stores.map((s) => ({ store: s.id, pid: pidOf(s.dataDir), status: s.statusAddress }))
    const counted = ["tinykv_raft_rounds_total", "tinykv_engine_writes_total"]
    const countersNow = () => Promise.all(pids.map((p) => countersOf(p.status, counted)))
    return yield* Effect.promise(async () => {
      const conns = await Promise.all(
        Array.from({ length: clients }, async () => {
          const kv = await connect({ scheduler: cluster.scheduler, deadline: "30 seconds" })
          await kv.get("warmup-nonexistent")
          return kv
        })
      )
      try {
        if (gets) await loop(conns, Math.min(ops, 100_000), (kv, i) => kv.put(keyOf(i), value))
        const runs = []
        for (let rep = 0; rep < reps; rep++) {
          process.stderr.write(`cpu: run ${rep + 1} of ${reps}\n`)
          const storesBefore = pids.map((p) => cpuSeconds(p.pid))
          const countersBefore = await countersNow()
          const clientBefore = process.cpuUsage()
          const started = performance.now()
          await loop(conns, ops, gets ? (kv, i) => kv.get(keyOf(i)) : (kv, i) => kv.put(keyOf(i), value))
          const seconds = (performance.now() - started) / 1000
          const client = process.cpuUsage(clientBefore)
          const countersAfter = await countersNow()
          const perOpOf = (i: number, name: string) =>
            Math.round(((countersAfter[i]![name]! - countersBefore[i]![name]!) / ops) * 1000) / 1000
          const perOp = (s: number) => Math.round((s * 1e6) / ops)
          const storeUs = pids
            .map((p, i) => ({
              store: p.store,
              cpuUsPerOp: perOp(cpuSeconds(p.pid) - storesBefore[i]!),
              // how many operations a round (and an engine write) carries: fewer rounds per op, less fixed cost
              roundsPerOp: perOpOf(i, "tinykv_raft_rounds_total"),
              engineWritesPerOp: perOpOf(i, "tinykv_engine_writes_total")
            }))
            .sort((a, b) => b.cpuUsPerOp - a.cpuUsPerOp)
          runs.push({
            opsPerSec: Math.round(ops / seconds),
            clientCpuUsPerOp: perOp((client.user + client.system) / 1e6),
            // the busiest first: the leader, with one region
            storesCpuUsPerOp: storeUs
          })
        }
        return { bench: "cpu", op: gets ? "get" : "put", stores, clients, ops, runs }
      } finally {
        await Promise.all(conns.map((c) => c.close()))
      }
    })
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.runPromise)
}
