/**
 * The cost of TLS: the same workloads against the same 3-store cluster shape, first with plain TCP,
 * then with mutual TLS on every link (client ↔ store, client ↔ scheduler, store ↔ store, store ↔
 * scheduler), in one run so both see the same machine load. A fresh cluster for each, started the
 * way `tinykv playground [--tls]` starts one.
 * `npm run bench -- tls [--workloads W1,W2,W3] [--ops-scale 0.2] [--seed 42] [--logs DIR]`: each workload runs
 * `ops-scale` of its operations (W2 reads the keys the scaled W1 wrote; without W1 in the run its
 * gets miss, which costs the same read through the Raft log, and the misses are counted).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { join } from "node:path"
import { Effect } from "effect"
import { startLocalCluster } from "../src/process/index.js"
import { clientTlsOf, runWorkloads } from "./cluster.js"
import type { WorkloadId, WorkloadResult } from "./workloads.js"

const runMode = (
  tls: boolean,
  workloads: ReadonlyArray<WorkloadId>,
  seed: number,
  opsScale: number,
  logs: string | undefined
) =>
  Effect.gen(function* () {
    const cluster = yield* startLocalCluster({
      stores: 3,
      tls: tls ? "generate" : undefined,
      logDir: logs === undefined ? undefined : join(logs, tls ? "tls" : "plain")
    })
    yield* cluster.waitUntilWritable("60 seconds")
    const system = `tinykv-ts, 3 stores, ${tls ? "mutual TLS on every link" : "plain TCP"}`
    return yield* Effect.promise(() =>
      runWorkloads(cluster.scheduler, workloads, seed, { tls: clientTlsOf(cluster), opsScale, system })
    )
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.runPromise)

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const workloads = (flag("workloads") ?? "W1,W2,W3").split(",") as Array<WorkloadId>
  const seed = Number(flag("seed") ?? 42)
  const opsScale = Number(flag("ops-scale") ?? 0.2)
  const logs = flag("logs")
  const plain = await runMode(false, workloads, seed, opsScale, logs)
  const tls = await runMode(true, workloads, seed, opsScale, logs)
  const byWorkload = (rs: ReadonlyArray<WorkloadResult>, w: WorkloadId) => rs.find((r) => r.workload === w)!
  const overhead = workloads.map((w) => {
    const p = byWorkload(plain, w)
    const t = byWorkload(tls, w)
    return {
      workload: w,
      plainOpsPerSec: p.opsPerSec,
      tlsOpsPerSec: t.opsPerSec,
      throughputRatio: Math.round((t.opsPerSec / p.opsPerSec) * 1000) / 1000,
      p50Ms: { plain: p.latencyMs.p50, tls: t.latencyMs.p50 },
      p99Ms: { plain: p.latencyMs.p99, tls: t.latencyMs.p99 }
    }
  })
  return { bench: "tls", seed, opsScale, results: [...plain, ...tls], overhead }
}
