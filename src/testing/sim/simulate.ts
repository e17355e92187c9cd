/**
 * One deterministic simulation run: a whole cluster (scheduler + N stores, memory engines that model fsync,
 * the in-process network) under `TestClock`, clients doing raw operations through the real client while
 * the nemesis injects faults, then a heal and a final read of every key; the history is checked for
 * linearizability (which also catches a lost acknowledged write: the final reads would miss it).
 *
 * Everything random comes from the seed — elections, message drops, the clients' choices, the faults, the
 * client's retry jitter (Effect's `Random`, seeded here) — and time and the order of fiber steps are
 * virtual (`virtualTime.ts`), so a seed replays exactly.
 */
import { Cause, Effect, Exit, Fiber, Logger, LogLevel, Random } from "effect"
import { checkLinearizable } from "../linearizability/checker.js"
import { HistoryRecorder } from "../linearizability/history.js"
import { type KvInput, type KvOutput, kvModel } from "../linearizability/kvModel.js"
import { schedulerRegions } from "../clusterAdmin.js"
import { TestCluster } from "../TestCluster.js"
import { emptyNemesisState, healAll, type NemesisLog, runNemesis } from "./nemesis.js"
import { audit, type BankLog, type BankOptions, emptyBankLog, openAccounts, runBank } from "./bank.js"
import { simRandom } from "./random.js"
import { RaftInvariants } from "./raftInvariants.js"
import { checkReplicas } from "./replicaConsistency.js"
import { slowDisk } from "./slowDisk.js"
import { VirtualTime } from "./virtualTime.js"
import { finalReads, runClients } from "./workload.js"

/**
 * The deliberately broken clusters of the self-test: `ack-before-fsync`, every store's disk ignores fsync,
 * so a crash loses writes the store had acknowledged; `apply-skips-epoch`, apply runs data commands without
 * the region epoch and key-range checks and ReadIndex reads are answered without the epoch check;
 * `leader-reads-locally`, a leader answers reads from its own state without the log; `lease-too-long`, a
 * leader's read lease lasts ten election timeouts, so a deposed leader answers reads under it (the last three
 * through the raftstore's TEST ONLY `unsafeTestOnly` switches); `no-log-mending`, stores with raft logs of their own
 * (whatever `raftLog` says) start without mending a log a crash left apart from the applied data, which the
 * after-data crashes (`testing/afterDataTrap.ts`) leave.
 */
export const BROKEN = [
  "none",
  "ack-before-fsync",
  "apply-skips-epoch",
  "leader-reads-locally",
  "lease-too-long",
  "no-log-mending"
] as const
export type Broken = (typeof BROKEN)[number]

/**
 * Regions split past this many bytes (into pieces of 2/3 of it), so a run sees splits: the bank's MVCC
 * versions outgrow it within a few transfers.
 */
const REGION_MAX_BYTES = 600

export interface SimOptions {
  readonly seed: number
  readonly stores?: number
  readonly clients?: number
  readonly opsPerClient?: number
  readonly keys?: number
  /** Raw values padded to at least this many bytes (default 0), so the raw keys' region splits too. */
  readonly valueBytes?: number
  /** A client's pause between operations, at most (virtual; default 150 ms). */
  readonly thinkMs?: number
  /** Virtual time between faults (default 400 ms). */
  readonly faultEveryMs?: number
  /** Fibers moving money between accounts in transactions (default 2; 0: no bank). */
  readonly bankClients?: number
  /** Transfers per bank client (default 6). */
  readonly transfersPerClient?: number
  /** Audits of every account while the transfers run (default 4), plus one at the end. */
  readonly audits?: number
  /** Give up (verdict `Stuck`) when the run has not finished after this much virtual time (default 10 min). */
  readonly maxVirtualMs?: number
  /**
   * Wall time the driver runs before letting the event loop turn (default 200 ms). It must change nothing in
   * a run: the determinism test runs one seed with two values and expects the same result.
   */
  readonly sliceMs?: number
  /** A deliberately broken cluster, to show the checks catch it (see `Broken`). */
  readonly broken?: Broken
  /**
   * Every store keeps its raft space in a raft log of its own (`layers/storageRaftLogged.ts`, default false), so
   * power losses cut the log and the engine apart.
   */
  readonly raftLog?: boolean
}

export interface SimResult {
  readonly seed: number
  /**
   * `Ok`; `Illegal` (a linearizability violation); `Unknown` (checker budget); `Stuck` (never finished);
   * `RaftViolation` (two leaders in a term, a committed entry that changed, an apply past the commit, a peer
   * stopped for a broken invariant or that could not load);
   * `ReplicaViolation` (two replicas of a region at one applied index hold different data, after healing);
   * `BankViolation` (an audit saw a wrong total or a missing account). The first that applies, in the
   * order Raft, replicas, bank, linearizability; `report` says what was seen.
   */
  readonly verdict: "Ok" | "Illegal" | "Unknown" | "Stuck" | "RaftViolation" | "ReplicaViolation" | "BankViolation"
  readonly operations: number
  /** Operations whose outcome was unknown (failed writes). */
  readonly indefinite: number
  readonly faults: NemesisLog["faults"]
  /** Keys whose final read failed even after healing (each is also a liveness problem). */
  readonly unreadKeys: number
  readonly virtualMs: number
  /** Committed Raft entries the invariant check recorded (how much it saw). */
  readonly raftEntries: number
  readonly bank: { readonly committed: number; readonly failed: number; readonly audits: number }
  /** Whether the audit after healing failed to complete (a liveness problem, like `unreadKeys`). */
  readonly finalAuditFailed: boolean
  /** Regions at the end, as the scheduler knows them (more than 1: the run saw splits). */
  readonly regions: number
  /**
   * The replica comparison after healing: regions whose replicas all reached one applied index, regions
   * where some did not (a liveness note; only replicas at equal indexes were compared), pairs compared.
   */
  readonly replicas: { readonly settled: number; readonly unsettled: number; readonly compared: number }
  readonly report?: string
}

/** How often the Raft invariants are sampled (virtual time): every tick. */
const SAMPLE_EVERY_MS = 50

/**
 * After healing, the replicas' data are compared once every region's replicas stand at one applied index;
 * a follower learns the last commit index from the leader's next message, so this waits up to 40 reads
 * 100 ms apart (virtual) for that, and compares the replicas at equal indexes if some never catch up.
 */
const REPLICA_ATTEMPTS = 40
const REPLICA_PAUSE_MS = 100

const scenario = (options: Required<SimOptions>, log: NemesisLog, raft: RaftInvariants, bankLog: BankLog) =>
  Effect.gen(function* () {
    const random = simRandom(options.seed)
    const cluster = yield* TestCluster.make({
      stores: options.stores,
      seed: options.seed,
      deterministic: true,
      modelSync: options.broken === "ack-before-fsync" ? "broken" : true,
      raftLog: options.raftLog || options.broken === "no-log-mending",
      config: {
        regionMaxSize: REGION_MAX_BYTES,
        regionSplitSize: Math.floor((REGION_MAX_BYTES * 2) / 3),
        ...(options.broken === "apply-skips-epoch" ? { unsafeTestOnly: { applySkipsEpochCheck: true } } : {}),
        ...(options.broken === "leader-reads-locally" ? { unsafeTestOnly: { leaderReadsLocally: true } } : {}),
        ...(options.broken === "lease-too-long" ? { unsafeTestOnly: { leaseTooLong: true } } : {}),
        ...(options.broken === "no-log-mending" ? { unsafeTestOnly: { skipLogMending: true } } : {})
      }
    })
    const nemesisState = emptyNemesisState()
    for (const id of cluster.storeIds)
      yield* cluster.wrapStorage(id, slowDisk(nemesisState.slowDisk, id, nemesisState.stalledUntil))
    yield* cluster.start
    const stores = () => cluster.storeIds.map((id) => ({ id, store: cluster.store(id) }))
    const sampler = yield* Effect.fork(
      Effect.forever(
        Effect.zipRight(
          Effect.sleep(`${SAMPLE_EVERY_MS} millis`),
          Effect.sync(() => raft.sample(stores()))
        )
      )
    )
    const history = new HistoryRecorder<KvInput, KvOutput>()
    const client = cluster.clientLayer({ timeout: "1 second", deadline: "5 seconds" })
    const bank: BankOptions = {
      accounts: 8,
      clients: options.bankClients,
      transfersPerClient: options.transfersPerClient,
      audits: options.audits,
      thinkMs: options.thinkMs
    }
    if (bank.clients > 0) yield* openAccounts(bank).pipe(Effect.provide(client))
    const nemesis = yield* Effect.fork(runNemesis(cluster, random.fork(1000), log, nemesisState, options.faultEveryMs))
    yield* Effect.all(
      [
        runClients(history, random.fork(2000), options, client),
        bank.clients > 0 ? runBank(bank, random.fork(3000), bankLog) : Effect.void
      ],
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.provide(client))
    yield* Fiber.interrupt(nemesis)
    yield* healAll(cluster, nemesisState, log, -1)
    const healed = cluster.clientLayer({ timeout: "2 seconds", deadline: "60 seconds" })
    const unreadKeys = yield* finalReads(history, options.keys, options.clients).pipe(Effect.provide(healed))
    const finalAudit = bank.clients > 0 ? yield* audit(bank, bankLog, "final").pipe(Effect.provide(healed)) : true
    yield* Fiber.interrupt(sampler)
    raft.sample(stores(), true)
    const replicas = yield* checkReplicas(
      cluster.storeIds,
      (id) => cluster.engineSnapshot(id),
      Effect.sleep(`${REPLICA_PAUSE_MS} millis`),
      REPLICA_ATTEMPTS
    )
    const regions = (yield* schedulerRegions(cluster)).length
    return { history, unreadKeys, finalAuditFailed: !finalAudit, regions, replicas }
  }).pipe(Effect.scoped)

/** Runs one seed; never fails (a run that errors is reported through its verdict). */
export const simulate = (input: SimOptions): Effect.Effect<SimResult> => {
  const options: Required<SimOptions> = {
    stores: 3,
    clients: 3,
    opsPerClient: 25,
    keys: 4,
    valueBytes: 0,
    thinkMs: 150,
    faultEveryMs: 400,
    maxVirtualMs: 600_000,
    sliceMs: 200,
    broken: "none",
    raftLog: false,
    bankClients: 2,
    transfersPerClient: 6,
    audits: 4,
    ...input
  }
  const log: NemesisLog = { faults: [] }
  const raft = new RaftInvariants()
  const bankLog = emptyBankLog()
  // a run that did not finish still reports what the Raft and bank checks saw until then
  const stuck = (virtualMs: number, why: string): SimResult => ({
    seed: options.seed,
    verdict: raft.violations.length > 0 ? "RaftViolation" : bankLog.violations.length > 0 ? "BankViolation" : "Stuck",
    operations: 0,
    indefinite: 0,
    faults: log.faults,
    unreadKeys: 0,
    virtualMs,
    raftEntries: raft.entries,
    bank: { committed: bankLog.committed, failed: bankLog.failed, audits: bankLog.audits },
    finalAuditFailed: false,
    regions: 0,
    replicas: { settled: 0, unsettled: 0, compared: 0 },
    report: [why, ...raft.violations, ...bankLog.violations].join("\n")
  })
  return Effect.promise(async () => {
    const time = new VirtualTime()
    const exit = await time.run(
      scenario(options, log, raft, bankLog).pipe(
        Effect.withRandom(Random.make(options.seed)),
        // thousands of runs: the stores' info logs (peers created, snapshots applied) would drown the report
        Logger.withMinimumLogLevel(LogLevel.Warning)
      ),
      options.maxVirtualMs,
      options.sliceMs
    )
    const virtualMs = time.millis
    if (exit === undefined) return stuck(virtualMs, `not finished after ${virtualMs} ms of virtual time`)
    if (Exit.isFailure(exit)) return stuck(virtualMs, `the run failed: ${Cause.pretty(exit.cause)}`)
    const { history, unreadKeys, finalAuditFailed, regions, replicas } = exit.value
    const ops = history.operations()
    const result = checkLinearizable(kvModel, ops)
    const verdict =
      raft.violations.length > 0
        ? "RaftViolation"
        : replicas.violations.length > 0
          ? "ReplicaViolation"
          : bankLog.violations.length > 0
            ? "BankViolation"
            : result._tag
    const report =
      raft.violations.length > 0
        ? raft.violations.join("\n")
        : replicas.violations.length > 0
          ? replicas.violations.join("\n")
          : bankLog.violations.length > 0
            ? bankLog.violations.join("\n")
            : result._tag === "Illegal"
              ? result.report
              : undefined
    return {
      seed: options.seed,
      verdict,
      operations: ops.length,
      indefinite: ops.filter((o) => o.ret === undefined).length,
      faults: log.faults,
      unreadKeys,
      virtualMs,
      raftEntries: raft.entries,
      bank: { committed: bankLog.committed, failed: bankLog.failed, audits: bankLog.audits },
      finalAuditFailed,
      regions,
      replicas: { settled: replicas.settled, unsettled: replicas.unsettled, compared: replicas.compared },
      ...(report !== undefined ? { report } : {})
    } satisfies SimResult
  })
}

/**
 * What `npm test` runs per seed: fewer operations and transfers, faults every 200 ms instead of 400, so a
 * seed costs about a third of the default one (~0.6 s of CPU on a loaded 2-core machine) and still sees
 * some 10 faults; `npm run sim` runs the default.
 */
export const sliceOptions = {
  opsPerClient: 6,
  faultEveryMs: 200,
  transfersPerClient: 2,
  audits: 1
} as const satisfies Partial<SimOptions>

/** The one-line command that replays a seed run with `options` (only the ones that differ from the default). */
export const replayCommand = (seed: number, options: Partial<SimOptions> = {}): string => {
  const flags = [`--seed ${seed}`]
  if (options.opsPerClient !== undefined) flags.push(`--ops ${options.opsPerClient}`)
  if (options.faultEveryMs !== undefined) flags.push(`--fault-every ${options.faultEveryMs}`)
  if (options.transfersPerClient !== undefined) flags.push(`--transfers ${options.transfersPerClient}`)
  if (options.audits !== undefined) flags.push(`--audits ${options.audits}`)
  if (options.clients !== undefined) flags.push(`--clients ${options.clients}`)
  if (options.keys !== undefined) flags.push(`--keys ${options.keys}`)
  if (options.valueBytes !== undefined) flags.push(`--value-bytes ${options.valueBytes}`)
  if (options.broken !== undefined && options.broken !== "none") flags.push(`--broken ${options.broken}`)
  if (options.raftLog === true) flags.push("--raft-log")
  return `npm run sim -- ${flags.join(" ")}`
}
