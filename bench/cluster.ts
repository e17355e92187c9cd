/**
 * W1/W2/W3 against a 3-replica cluster: a scheduler and 3 stores as child processes on loopback
 * (what `tinykv playground` runs, started the same way), driven through the cluster client (64
 * connections, one per client). `npm run bench -- cluster [--workloads W1,W2,W3] [--ops W1=20000,W3=2000]
 * [--seed 42] [--tls] [--read-paths lease,readIndex,log] [--ops-scale 1]`; `--tls` runs every link in mutual TLS
 * (a throwaway CA made with openssl, as `tinykv playground --tls`); `--read-paths` runs the workloads once per
 * read path, each on a fresh cluster, so one run compares them: `lease` (the stores' default: ReadIndex, and
 * reads under the leader's lease), `readIndex` (`--no-lease-reads`: every read asks a quorum), `log`; `--ops-scale`
 * runs that fraction of each workload's operations, and `--ops` sets a workload's count outright; `--warmup N`
 * first makes N untimed puts of keys no workload reads (default 0).
 */
import { raftEngineArgs, raftEngineLabel, raftEngineOf } from "./flags.js"
import type { RaftEngine } from "../src/raftstore/config.js"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { connect } from "../src/client/promise.js"
import type { TlsOptions } from "../src/client/index.js"
import { type LocalCluster, startLocalCluster } from "../src/process/index.js"
import {
  type KvConn,
  putEach,
  runWorkload,
  VALUE_SIZE,
  WORKLOADS,
  type WorkloadId,
  type WorkloadResult
} from "./workloads.js"

export interface ClusterRunOptions {
  /** The client's TLS files, on a TLS cluster. */
  readonly tls?: TlsOptions | undefined
  /** Runs each workload with this fraction of its operations (default 1). */
  readonly opsScale?: number | undefined
  /** Operations per workload, over `opsScale` (e.g. `{ W1: 20000 }`). */
  readonly ops?: Partial<Record<WorkloadId, number>> | undefined
  readonly system?: string | undefined
  /** The stores' `--read-path`, named in the results (the stores' default when absent). */
  readonly readPath?: string | undefined
  /**
   * Puts made, untimed, before the first workload (keys of their own, so W2 reads the same keys either way):
   * a fresh Node process runs its first thousands of requests unoptimised, and a server is measured at work.
   */
  readonly warmupOps?: number | undefined
  /** The stores' `--raft-engine`, named in the results (the stores' default when absent). */
  readonly raftEngine?: RaftEngine | undefined
}

/** The client's TLS files of a cluster started with TLS. */
export const clientTlsOf = (cluster: LocalCluster): TlsOptions | undefined => {
  const client = cluster.tls?.certificates.get("client")
  return cluster.tls === undefined || client === undefined ? undefined : { ca: cluster.tls.ca, ...client }
}

export const runWorkloads = async (
  scheduler: string,
  workloads: ReadonlyArray<WorkloadId>,
  seed: number,
  options: ClusterRunOptions = {}
) => {
  const conns: Array<KvConn> = await Promise.all(
    Array.from({ length: 64 }, async () => {
      const kv = await connect({ scheduler, deadline: "30 seconds", tls: options.tls })
      await kv.get("warmup-nonexistent") // fills this connection's region cache
      return { put: (k: string, v: Uint8Array) => kv.put(k, v), get: (k: string) => kv.get(k), close: kv.close }
    })
  )
  const system =
    options.system ??
    `tinykv-ts, 3 stores (${raftEngineLabel(options.raftEngine)}), reads via ${options.readPath ?? "lease"}${options.tls ? ", mutual TLS" : ""}`
  try {
    return await runWorkloadsOn(conns, workloads, seed, { ...options, system })
  } finally {
    await Promise.all(conns.map((c) => c.close()))
  }
}

/** Operations of workload `w` in a run with these options. */
export const opsOf = (w: WorkloadId, options: Pick<ClusterRunOptions, "ops" | "opsScale">): number =>
  options.ops?.[w] ?? Math.max(1, Math.round(WORKLOADS[w].ops * (options.opsScale ?? 1)))

/** Runs `workloads` in order over open connections (W2 reads the keys W1 wrote in the same run). */
export const runWorkloadsOn = async (
  conns: ReadonlyArray<KvConn>,
  workloads: ReadonlyArray<WorkloadId>,
  seed: number,
  options: ClusterRunOptions & { readonly system: string }
) => {
  const results: Array<WorkloadResult & { system: string }> = []
  if ((options.warmupOps ?? 0) > 0) await warmUp(conns, options.warmupOps!)
  for (const w of workloads) {
    const ops = opsOf(w, options)
    const r = await runWorkload(w, conns, { seed, ops, writtenOps: opsOf("W1", options) })
    results.push({ system: options.system, ...r })
    process.stderr.write(`${JSON.stringify(results[results.length - 1])}\n`)
  }
  return results
}

/** `ops` puts of 128 B over all connections, on keys no workload reads (`warmup%08d`). */
const warmUp = async (conns: ReadonlyArray<KvConn>, ops: number) => {
  process.stderr.write(`warming up: ${ops} puts, untimed\n`)
  const value = new Uint8Array(VALUE_SIZE).fill(1)
  await putEach(
    conns,
    ops,
    (i) => `warmup${String(i).padStart(8, "0")}`,
    () => value
  )
}

/** Parses `--warmup N` (default `fallback`). */
export const parseWarmup = (text: string | undefined, fallback: number): number => {
  const n = Number(text ?? fallback)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--warmup: expected a count of puts (0 or more), got "${text}"`)
  return n
}

/** Parses `--ops W1=20000,W3=2000` into per-workload counts (workloads not named keep their size). */
export const parseOps = (text: string | undefined): Partial<Record<WorkloadId, number>> => {
  const ops: Partial<Record<WorkloadId, number>> = {}
  if (text === undefined) return ops
  for (const part of text.split(",")) {
    const [w, n] = part.split("=")
    const count = Number(n)
    if (!(w! in WORKLOADS) || !Number.isInteger(count) || count < 1) {
      throw new Error(`--ops: expected WORKLOAD=COUNT[,…] with WORKLOAD one of W1, W2, W3, got "${part}"`)
    }
    ops[w as WorkloadId] = count
  }
  return ops
}

/** The stores' flags for a `--read-paths` entry (`lease` is the stores' default). */
const readPathArgs = (readPath: string | undefined): Array<string> => {
  if (readPath === undefined || readPath === "lease") return []
  if (readPath === "readIndex") return ["--read-path", "readIndex", "--no-lease-reads"]
  if (readPath === "log") return ["--read-path", "log"]
  throw new Error(`--read-paths: expected lease, readIndex or log, got "${readPath}"`)
}

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const workloads = (flag("workloads") ?? "W1,W2,W3").split(",") as Array<WorkloadId>
  const seed = Number(flag("seed") ?? 42)
  const tls = args.includes("--tls")
  const readPaths = flag("read-paths")?.split(",")
  const opsScale = Number(flag("ops-scale") ?? 1)
  const ops = parseOps(flag("ops"))
  const warmupOps = parseWarmup(flag("warmup"), 0)
  const raftEngine = raftEngineOf(args)
  const results: Array<WorkloadResult & { system: string }> = []
  for (const readPath of readPaths ?? [undefined]) {
    // the cluster (and its temporary data directory) lives until the workloads are done
    const run = await Effect.gen(function* () {
      const cluster = yield* startLocalCluster({
        stores: 3,
        tls: tls ? "generate" : undefined,
        storeArgs: [...readPathArgs(readPath), ...raftEngineArgs(raftEngine)]
      })
      yield* cluster.waitUntilWritable("60 seconds")
      return yield* Effect.promise(() =>
        runWorkloads(cluster.scheduler, workloads, seed, {
          tls: clientTlsOf(cluster),
          opsScale,
          ops,
          readPath,
          warmupOps,
          raftEngine
        })
      )
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.runPromise)
    results.push(...run)
  }
  return { bench: "cluster", seed, tls, opsScale, raftEngine: raftEngine ?? "default", results }
}
