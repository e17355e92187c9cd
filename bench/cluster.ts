/**
 * W1/W2/W3 against a 3-replica cluster: a scheduler and 3 stores as child processes on loopback
 * (what `tinykv playground` runs, started the same way), driven through the cluster client (64
 * connections, one per client). `npm run bench -- cluster [--workloads W1,W2,W3] [--seed 42]`
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { connect } from "../src/client/promise.js"
import { startLocalCluster } from "../src/process/index.js"
import { type KvConn, runWorkload, type WorkloadId, type WorkloadResult } from "./workloads.js"

const runWorkloads = async (scheduler: string, workloads: ReadonlyArray<WorkloadId>, seed: number) => {
  const results: Array<WorkloadResult & { system: string }> = []
  const conns: Array<KvConn> = await Promise.all(
    Array.from({ length: 64 }, async () => {
      const kv = await connect({ scheduler, deadline: "30 seconds" })
      await kv.get("warmup-nonexistent") // fills this connection's region cache
      return { put: (k: string, v: Uint8Array) => kv.put(k, v), get: (k: string) => kv.get(k), close: kv.close }
    })
  )
  try {
    for (const w of workloads) {
      const r = await runWorkload(w, conns, { seed })
      results.push({ system: "tinykv-ts, 3 stores (lmdb, fsync per round), reads through the Raft log", ...r })
      process.stderr.write(`${JSON.stringify(results[results.length - 1])}\n`)
    }
  } finally {
    await Promise.all(conns.map((c) => c.close()))
  }
  return results
}

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const workloads = (flag("workloads") ?? "W1,W2,W3").split(",") as Array<WorkloadId>
  const seed = Number(flag("seed") ?? 42)
  // the cluster (and its temporary data directory) lives until the workloads are done
  const results = await Effect.gen(function* () {
    const cluster = yield* startLocalCluster({ stores: 3 })
    yield* cluster.waitUntilWritable("60 seconds")
    return yield* Effect.promise(() => runWorkloads(cluster.scheduler, workloads, seed))
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.runPromise)
  return { bench: "cluster", seed, results }
}
