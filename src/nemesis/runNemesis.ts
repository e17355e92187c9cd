/**
 * One process-level nemesis run (`npm run nemesis`): a scheduler and N stores as real `tinykv` processes on
 * loopback, every store-to-store link through a fault-injecting proxy; concurrent clients through the real
 * client for the given time while the faults come one store at a time; then every fault is undone, one read
 * of every key is recorded, and the whole history is checked for linearizability (a lost acknowledged write
 * fails it: a final read would miss it). The summary says the operations, the faults by kind, the
 * unavailability per fault kind, and the verdict.
 */
import type { CommandExecutor, FileSystem } from "@effect/platform"
import { Clock, type Duration, Effect, Fiber, Ref, type Scope } from "effect"
import { type ExitStatus, describeExit, startLocalCluster } from "../process/index.js"
import { checkLinearizable } from "../testing/linearizability/checker.js"
import { HistoryRecorder } from "../testing/linearizability/history.js"
import { type KvInput, type KvOutput, kvModel } from "../testing/linearizability/kvModel.js"
import { simRandom } from "../testing/sim/random.js"
import {
  calmGaps,
  type FaultGap,
  gapsByFault,
  type Unavailability,
  type UnavailabilityReport,
  unavailabilityByKind
} from "./availability.js"
import { finalReads, newClientStats, runClients, type TimedOp } from "./clients.js"
import { FAULT_KINDS, type FaultKind, type FaultRecord, runFaults } from "./faults.js"
import { makeProxyMesh } from "./proxyMesh.js"

export interface NemesisOptions {
  readonly seed: number
  /** How long the clients run under faults. */
  readonly duration: Duration.DurationInput
  readonly stores?: number
  readonly clients?: number
  readonly kinds?: ReadonlyArray<FaultKind>
  readonly holdMs?: readonly [number, number]
  readonly calmMs?: readonly [number, number]
  /** Where each process writes its log (default: nowhere). */
  readonly logDir?: string | undefined
  /** Told each phase of the run and each fault as it ends (default: nothing). */
  readonly progress?: ((line: string) => Effect.Effect<void>) | undefined
}

export interface NemesisSummary {
  readonly seed: number
  readonly stores: number
  readonly clients: number
  readonly seconds: number
  /** `Ok`: linearizable; `Illegal`: a violation (see `report`); `Unknown`: the checker gave up. */
  readonly verdict: "Ok" | "Illegal" | "Unknown"
  readonly ops: {
    readonly total: number
    readonly indefinite: number
    readonly byKind: ReturnType<typeof newClientStats>["byKind"]
    readonly keys: number
    /** Keys whose final read failed after every fault was undone (a liveness problem). */
    readonly unreadKeys: number
  }
  readonly faults: Partial<Record<FaultKind, number>>
  readonly unavailability: Partial<Record<FaultKind, UnavailabilityReport>>
  /** The control: the longest gap of each calm stretch (1 s after an undoing until the next fault), no fault on. */
  readonly calm: Unavailability
  /** Processes that exited on their own (a crash is a bug, whatever the verdict). */
  readonly unexpectedExits: ReadonlyArray<string>
  readonly checkMs: number
  readonly report?: string
  readonly faultLog: ReadonlyArray<FaultRecord>
  /** Per fault, in order: its longest gap with no successful operation, and when that gap began. */
  readonly faultGaps: ReadonlyArray<FaultGap>
  /** Every client operation with its start and end, to see what was in flight during a gap. */
  readonly timeline: ReadonlyArray<TimedOp>
}

export const runNemesis = (
  input: NemesisOptions
): Effect.Effect<NemesisSummary, Error, CommandExecutor.CommandExecutor | FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const options = {
      stores: 3,
      clients: 5,
      kinds: FAULT_KINDS,
      holdMs: [1_000, 5_000] as const,
      calmMs: [1_000, 3_000] as const,
      ...input
    }
    const progress = options.progress ?? (() => Effect.void)
    const random = simRandom(options.seed)
    const mesh = yield* makeProxyMesh(options.stores)
    const unexpectedExits: Array<string> = []
    const cluster = yield* startLocalCluster({
      stores: options.stores,
      logDir: options.logDir,
      // small enough that a store down for a few seconds is caught up by a snapshot, not only by entries
      storeArgs: ["--raft-log-gc-limit", "500"],
      storeArgsFor: mesh.storeArgsFor,
      stopGrace: "2 seconds",
      onExit: (name: string, status: ExitStatus) =>
        Effect.sync(() => void unexpectedExits.push(`${name} (${describeExit(status)})`))
    })
    yield* cluster.waitUntilWritable("60 seconds")
    yield* progress(`cluster up (scheduler ${cluster.scheduler}); clients and faults start`)

    const history = new HistoryRecorder<KvInput, KvOutput>()
    const stats = newClientStats()
    const faultLog: Array<FaultRecord> = []
    const stop = yield* Ref.make(false)
    const started = yield* Clock.currentTimeMillis
    const clientOptions = {
      scheduler: cluster.scheduler,
      clients: options.clients,
      groupMs: 5_000,
      keysPerGroup: 4,
      thinkMs: 20
    }
    const clients = yield* Effect.fork(runClients(history, stats, random.fork(1), clientOptions, stop))
    const faults = yield* Effect.fork(
      runFaults(
        cluster,
        mesh,
        random.fork(2),
        { stores: options.stores, kinds: options.kinds, holdMs: options.holdMs, calmMs: options.calmMs },
        faultLog,
        stop,
        progress
      )
    )
    yield* Effect.sleep(options.duration)
    yield* Ref.set(stop, true)
    // the clients stop issuing operations now: the last fault's window ends here, not after its undoing
    const clientsStopped = yield* Clock.currentTimeMillis
    // the faulting fiber undoes its current fault before it ends; the clients finish their operation
    yield* progress("time is up: undoing the last fault")
    yield* Fiber.join(faults)
    const end = yield* Clock.currentTimeMillis
    yield* progress("waiting for the clients' last operations")
    yield* Fiber.join(clients)
    yield* progress(`final reads of ${stats.keys.size} keys`)
    const unreadKeys = yield* finalReads(history, stats, cluster.scheduler, options.clients)
    yield* progress(`checking ${history.operations().length} operations`)

    const ops = history.operations()
    const checkStarted = yield* Clock.currentTimeMillis
    const result = checkLinearizable(kvModel, ops)
    const checkMs = (yield* Clock.currentTimeMillis) - checkStarted
    const faultCounts: Partial<Record<FaultKind, number>> = {}
    for (const f of faultLog) faultCounts[f.kind] = (faultCounts[f.kind] ?? 0) + 1
    const summary: NemesisSummary = {
      seed: options.seed,
      stores: options.stores,
      clients: options.clients,
      seconds: Math.round((end - started) / 1000),
      verdict: result._tag,
      ops: {
        total: ops.length,
        indefinite: ops.filter((o) => o.ret === undefined).length,
        byKind: stats.byKind,
        keys: stats.keys.size,
        unreadKeys
      },
      faults: faultCounts,
      unavailability: unavailabilityByKind(faultLog, stats.successes, clientsStopped),
      calm: calmGaps(faultLog, stats.successes, 1_000, 500),
      unexpectedExits,
      checkMs,
      ...(result._tag === "Illegal" ? { report: result.report } : {}),
      faultLog,
      faultGaps: gapsByFault(faultLog, stats.successes, clientsStopped),
      timeline: stats.timeline
    }
    return summary
  })
