/**
 * TinyKV's `GenericTest` on our TestCluster: client fibers append keys and check
 * with scans that they read every acknowledged write in order; a chaos fiber partitions and drops
 * messages; stores crash and restart between iterations; at the end every client's keys must be
 * there exactly once and in order, and (with log GC) the raft log must have been compacted.
 *
 * Scaling (TinyKV runs 3 iterations of 5 s each, with 50 ms ticks):
 * - `RAFTSTORE_TEST_SECONDS` (default 2): seconds of client load per iteration; 3 iterations as TinyKV.
 *   Timing constants (ticks, election timeout, chaos period) are TinyKV's, so only the amount of load
 *   shrinks. At the default the whole `test/raftstore` folder takes about 3 minutes on a 2-core box; set
 *   5 for TinyKV's full length (about twice as long), or more for a soak run.
 * - Requests retry for up to `REQUEST_TIMEOUT_MS` (30 s, TinyKV's harness allows ~50 s): the unreliable
 *   scenarios stack drop filters until more than half the messages are lost, and elections then take
 *   seconds. A request that still fails prints every store's Raft state (`TestCluster.describe`).
 * - A failure prints the seed; `RAFTSTORE_SEED=<seed>` replays the cluster's choices (elections, drops,
 *   partitions). Live timing still varies between runs, so a replay makes a failure likely, not certain;
 *   `determinism.test.ts` shows a run under `TestClock` replays exactly.
 */
import { assert } from "@effect/vitest"
import { Effect, Fiber, Ref } from "effect"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import type { RegionId, StoreId } from "../../src/protocol/ids.js"
import { mulberry32 } from "../../src/raft/index.js"
import { RaftApplyStateCodec } from "../../src/raftstore/codec.js"
import { applyStateKey } from "../../src/raftstore/keys.js"
import {
  allocPeer,
  mustAddPeer,
  mustRemovePeer,
  randomRegion,
  schedulerRegions
} from "../../src/testing/clusterAdmin.js"
import { eventually } from "../../src/testing/eventually.js"
import { REQUEST_TIMEOUT_MS, TestCluster } from "../../src/testing/TestCluster.js"
import { waitLeader } from "./helpers.js"

export interface GenericOptions {
  readonly clients: number
  readonly unreliable?: boolean
  readonly crash?: boolean
  readonly partitions?: boolean
  /** Raft log GC count limit; -1 leaves the default (no compaction in practice). */
  readonly maxRaftLog?: number
  readonly stores?: number
  readonly engine?: "memory" | "lmdb"
  /**
   * A conf changer fiber (TinyKV `confchanger`): picks a random store; removes the region's peer there (if
   * that leaves at least one), else adds a new peer there; pauses up to 200 ms; again.
   */
  readonly confchange?: boolean
  /**
   * Tiny regions (TinyKV: split past 300 bytes into pieces of 200), so the clients' keys end up spread over
   * many regions that split while they are written, scanned, moved and crashed.
   */
  readonly split?: boolean
  /** The stores keep their raft space in a raft log of its own (`layers/storageRaftLogged.ts`). */
  readonly raftLog?: boolean
}

export const SECONDS = Number(process.env.RAFTSTORE_TEST_SECONDS ?? 2)
const ITERATIONS = 3
const pad = (n: number) => String(n).padStart(8, "0")
export const ELECTION_MS = 500

/**
 * A vitest timeout for a generic scenario: its load (3 iterations of `SECONDS`), start and checks, and room
 * for one request that waits out a long election under heavy loss (`REQUEST_TIMEOUT_MS`).
 */
export const genericTimeout = (perIterationMs = 5_000): number =>
  ITERATIONS * (SECONDS * 1_000 + perIterationMs) + REQUEST_TIMEOUT_MS + 15_000

/** The seed of this run: `RAFTSTORE_SEED` to replay one, else random. */
export const testSeed = (): number => Number(process.env.RAFTSTORE_SEED ?? Math.floor(Math.random() * 2 ** 31))

export const genericTest = (o: GenericOptions) =>
  Effect.gen(function* () {
    const seed = testSeed()
    const rand = mulberry32(seed)
    const maxRaftLog = o.maxRaftLog ?? -1
    const cluster = yield* TestCluster.make({
      stores: o.stores ?? 5,
      seed,
      engine: o.engine ?? "memory",
      ...(o.raftLog !== undefined ? { raftLog: o.raftLog } : {}),
      config: {
        ...(maxRaftLog > 0 ? { raftLogGcCountLimit: maxRaftLog } : {}),
        ...(o.split ? { regionMaxSize: 300, regionSplitSize: 200 } : {})
      }
    })
    let snapshots = 0
    yield* cluster.observe((d) => {
      if (d.message.message.msgType === "MsgSnapshot") snapshots++
    })
    yield* cluster.start
    yield* waitLeader(cluster)
    // what each client has appended, across iterations
    const expected: Array<Array<string>> = Array.from({ length: o.clients }, () => [])
    let puts = 0
    let scans = 0
    let confChanges = 0

    for (let iter = 0; iter < ITERATIONS; iter++) {
      const done = yield* Ref.make(false)
      const client = (cli: number) =>
        Effect.gen(function* () {
          let last = ""
          let j = 0
          const mine = expected[cli]!
          while (!(yield* Ref.get(done))) {
            const key = `${cli} ${pad(j)}`
            if (rand() < 0.5) {
              const value = `x ${cli} ${j} y`
              yield* cluster.mustPut(key, value)
              last += value
              mine.push(value)
              puts++
            } else {
              const pairs = yield* cluster.scan(`${cli} ${pad(0)}`, key)
              const got = pairs.map((p) => fromUtf8(p.value)).join("")
              scans++
              if (got !== last) {
                return yield* Effect.dieMessage(
                  `seed ${seed}: client ${cli} iteration ${iter} read\n${got}\nexpected\n${last}`
                )
              }
            }
            j++
          }
          // the next iteration starts after this client's keys are deleted below; keep `last` per iteration
        })
      // each iteration starts from an empty key range per client: TinyKV deletes them at the end
      const progressBefore = puts + scans
      const clients = yield* Effect.forEach(
        Array.from({ length: o.clients }, (_, c) => c),
        (c) => Effect.fork(client(c))
      )
      const chaos =
        o.unreliable || o.partitions
          ? yield* Effect.fork(
              Effect.gen(function* () {
                // the clients get going before the first fault
                yield* eventually(() => puts + scans > progressBefore, {
                  what: "the clients' first operation",
                  timeout: "30 seconds"
                })
                while (!(yield* Ref.get(done))) {
                  if (o.partitions) {
                    yield* cluster.clearFilters
                    const ids = [...cluster.storeIds].sort(() => rand() - 0.5)
                    const cut = 1 + Math.floor(rand() * (ids.length - 1))
                    yield* cluster.partition(ids.slice(0, cut), ids.slice(cut))
                  }
                  if (o.unreliable) yield* cluster.dropRate(0.1)
                  // pacing only: how long each fault lasts (no assertion depends on it)
                  yield* Effect.sleep(`${ELECTION_MS + Math.floor(rand() * 200)} millis`)
                }
              })
            )
          : undefined
      const changer = o.confchange
        ? yield* Effect.fork(
            Effect.gen(function* () {
              while (!(yield* Ref.get(done))) {
                const region = yield* randomRegion(cluster, rand)
                const store = cluster.storeIds[Math.floor(rand() * cluster.storeIds.length)]!
                const p = region.peers.find((x) => x.storeId === store)
                if (p === undefined) {
                  yield* mustAddPeer(cluster, region.id, yield* allocPeer(cluster, store))
                  confChanges++
                } else if (region.peers.length > 1) {
                  yield* mustRemovePeer(cluster, region.id, p)
                  confChanges++
                }
                // pacing only: spaces the conf changes (no assertion depends on it)
                yield* Effect.sleep(`${Math.floor(rand() * 200)} millis`)
              }
            })
          )
        : undefined
      // pacing only: how long the workload runs (no assertion depends on it)
      yield* Effect.sleep(`${SECONDS} seconds`)
      yield* Ref.set(done, true)
      if (chaos) {
        yield* Fiber.join(chaos)
        // heal BEFORE waiting for the clients, as TinyKV does: a client may be stuck in a request sent into a
        // minority or into a network that drops most messages, and it returns only once the network recovers
        yield* cluster.clearFilters
        yield* waitLeader(cluster)
      }
      for (const f of clients) yield* Fiber.join(f)
      if (changer) yield* Fiber.join(changer)
      if (o.crash) {
        for (const id of cluster.storeIds) yield* cluster.stopStore(id)
        // pacing only: the stores stay down a while, as TinyKV's crash does (no assertion depends on it)
        yield* Effect.sleep(`${ELECTION_MS} millis`)
        for (const id of cluster.storeIds) yield* cluster.startStore(id)
      }
      // every acknowledged append is there exactly once, in order (TinyKV `checkClntAppends`)
      for (let cli = 0; cli < o.clients; cli++) {
        const pairs = yield* cluster.scan(`${cli} ${pad(0)}`, `${cli} ${pad(99_999_999)}`)
        const values = pairs.map((p) => fromUtf8(p.value))
        assert.deepStrictEqual(values, expected[cli], `seed ${seed}: client ${cli} iteration ${iter}`)
        for (const p of pairs) yield* cluster.mustDelete(p.key)
        expected[cli] = []
      }
    }

    // the clients made progress: a cluster that acknowledged nothing would pass every check above
    assert.isAbove(puts, o.clients, `seed ${seed}: only ${puts} puts`)
    assert.isAbove(scans, 0, `seed ${seed}: no scans`)
    if (o.confchange) assert.isAbove(confChanges, 0, `seed ${seed}: no conf change`)
    yield* Effect.logInfo(
      `generic test done: seed ${seed}, ${puts} puts, ${scans} scans, ${confChanges} conf changes, ${snapshots} snapshots delivered`
    )

    if (o.split) {
      // the first region split at least once: it no longer reaches the end of the key space
      const { region } = yield* cluster.getRegion(new Uint8Array())
      assert.isAbove(region.endKey.length, 0, `seed ${seed}: the first region never split`)
      yield* Effect.logInfo(`seed ${seed}: ${(yield* schedulerRegions(cluster)).length} regions after the run`)
    }

    if (maxRaftLog > 0) {
      yield* eventually(
        Effect.forEach(cluster.storeIds, (id) =>
          Effect.map(cluster.engineMeta(id as StoreId, applyStateKey(1 as RegionId)), (raw) => {
            if (raw === undefined) return
            const s = RaftApplyStateCodec.decode(raw)
            assert.isAtMost(
              s.appliedIndex - s.truncatedState.index,
              2 * maxRaftLog,
              `seed ${seed}: store ${id} keeps ${s.appliedIndex - s.truncatedState.index} entries (limit ${maxRaftLog})`
            )
          })
        ),
        { what: "every store to garbage-collect its raft log", interval: "50 millis" }
      )
    }
  }).pipe(Effect.scoped)
