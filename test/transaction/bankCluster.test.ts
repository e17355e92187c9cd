/**
 * The bank invariant on a replicated TestCluster with 10 % message loss and a store crash + restart
 * in the middle: concurrent transfers through client transactions, each Kv* command run by the
 * transaction handlers of the current leader's store over the Raft KvStorage (so every prewrite and
 * commit goes through the Raft log), retried on region errors. The total never changes, in any
 * snapshot, and at the end.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Ref } from "effect"
import { begin, transact, type TxnBackend } from "../../src/client/transaction.js"
import { isRegionError, type KvError } from "../../src/protocol/errorpb.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { RegionId, StoreId } from "../../src/protocol/ids.js"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { Router } from "../../src/services/Router.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { makeTxnHandlers, type TxnHandlers } from "../../src/transaction/handlers.js"
import { makeLocalTso } from "../../src/transaction/localTso.js"

const ACCOUNTS = 5
const INITIAL = 100
const account = (i: number) => utf8(`acct-${i}`)

describe("bank on a replicated cluster", () => {
  it.live(
    "transfers under 10% message loss and a store restart keep the total",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TestCluster.make({ stores: 3, seed: 11 })
        yield* cluster.start
        const tso = yield* makeLocalTso
        const handlersOf = new Map<StoreId, TxnHandlers>()
        const handlers = (id: StoreId) =>
          Effect.gen(function* () {
            const cached = handlersOf.get(id)
            if (cached) return cached
            const store = cluster.store(id)
            if (store === undefined) return yield* Effect.fail("store down" as const)
            const h = yield* makeTxnHandlers.pipe(
              Effect.provide(
                layerKvStorageRaft({ commandTimeoutMs: 1_000 }).pipe(
                  Layer.provide(Layer.merge(Layer.succeed(Router, store.router), cluster.storageLayer(id)))
                )
              )
            )
            handlersOf.set(id, h)
            return h
          })
        const call =
          <Req extends { context?: unknown }, Res>(
            pick: (h: TxnHandlers) => (req: Req) => Effect.Effect<Res, KvError>
          ) =>
          (req: Req): Effect.Effect<Res, KvError> =>
            Effect.gen(function* () {
              // retried (every 30 ms) until the region's leader answers with anything but a region error; the
              // check succeeds with that answer, so a non-region error reaches the caller unretried
              const answer = yield* eventually(
                Effect.gen(function* () {
                  const { region } = yield* cluster.getRegion(new Uint8Array()).pipe(Effect.orDie)
                  const leader = cluster.leaderOf(region.id as RegionId)
                  if (leader === undefined) return yield* Effect.fail("no leader")
                  const h = yield* Effect.either(handlers(leader.storeId))
                  if (h._tag === "Left") {
                    handlersOf.delete(leader.storeId)
                    return yield* Effect.fail(`store ${leader.storeId} is down`)
                  }
                  const context = { regionId: region.id, regionEpoch: region.regionEpoch, peer: leader }
                  const r = yield* Effect.either(pick(h.right)({ ...req, context }))
                  if (r._tag === "Left" && isRegionError(r.left)) return yield* Effect.fail(r.left)
                  return r
                }),
                { what: "the region's leader to answer", timeout: "10 seconds", interval: "30 millis" }
              ).pipe(Effect.orDie)
              return yield* answer
            })
        const backend: TxnBackend = {
          tso: tso.next,
          groupByRegion: (keys) => Effect.succeed(keys.length === 0 ? [] : [keys]),
          KvGet: call((h) => h.KvGet),
          KvScan: call((h) => h.KvScan),
          KvPrewrite: call((h) => h.KvPrewrite),
          KvCommit: call((h) => h.KvCommit),
          KvCheckTxnStatus: call((h) => h.KvCheckTxnStatus),
          KvBatchRollback: call((h) => h.KvBatchRollback),
          KvResolveLock: (req) => call((h) => h.KvResolveLock)(req)
        }
        const total = (t: { get: (k: Uint8Array) => Effect.Effect<Option.Option<Uint8Array>, unknown> }) =>
          Effect.gen(function* () {
            let sum = 0
            for (let i = 0; i < ACCOUNTS; i++) sum += Number(fromUtf8(Option.getOrThrow(yield* t.get(account(i)))))
            return sum
          })
        yield* transact(backend, (t) =>
          Effect.forEach(
            Array.from({ length: ACCOUNTS }, (_, i) => i),
            (i) => t.set(account(i), utf8(String(INITIAL)))
          )
        )
        yield* cluster.dropRate(0.1)
        const done = yield* Ref.make(false)
        const committed = yield* Ref.make(0)
        const worker = (w: number) =>
          Effect.gen(function* () {
            let n = 0
            while (!(yield* Ref.get(done))) {
              const from = (w + n) % ACCOUNTS
              const to = (w + 2 * n + 1) % ACCOUNTS
              n++
              if (from === to) continue
              yield* transact(
                backend,
                (t) =>
                  Effect.gen(function* () {
                    const a = Number(fromUtf8(Option.getOrThrow(yield* t.get(account(from)))))
                    const b = Number(fromUtf8(Option.getOrThrow(yield* t.get(account(to)))))
                    const amount = Math.min(a, 1 + (n % 7))
                    yield* t.set(account(from), utf8(String(a - amount)))
                    yield* t.set(account(to), utf8(String(b + amount)))
                  }),
                { retries: 50 }
              )
              yield* Ref.update(committed, (c) => c + 1)
            }
          })
        const auditor = Effect.gen(function* () {
          while (!(yield* Ref.get(done))) {
            const t = yield* begin(backend)
            assert.strictEqual(yield* total(t), ACCOUNTS * INITIAL, "a snapshot saw a different total")
            yield* t.rollback
            // the next audit waits for another committed transfer (or the end), so audits follow progress
            const seen = yield* Ref.get(committed)
            yield* eventually(
              Effect.map(Effect.zip(Ref.get(committed), Ref.get(done)), ([c, d]) => d || c > seen),
              { what: "another transfer committed", timeout: "60 seconds", interval: "20 millis" }
            )
          }
        })
        const fibers = yield* Effect.forEach([0, 1, 2, 3], (w) => Effect.fork(worker(w)))
        const audit = yield* Effect.fork(auditor)
        // each phase lasts until the workers commit 3 more transfers, however slow the machine is:
        // before the crash, while store 2 is down, and after it restarts
        const moreCommits = (phase: string) =>
          Effect.gen(function* () {
            const start = yield* Ref.get(committed)
            yield* eventually(Ref.get(committed).pipe(Effect.map((c) => c >= start + 3)), {
              what: `3 transfers committed ${phase}`,
              timeout: "40 seconds",
              interval: "20 millis"
            })
          })
        yield* moreCommits("before the crash")
        yield* cluster.stopStore(2 as StoreId)
        handlersOf.delete(2 as StoreId)
        yield* moreCommits("while store 2 is down")
        yield* cluster.startStore(2 as StoreId)
        yield* moreCommits("after store 2 restarted")
        yield* Ref.set(done, true)
        for (const f of fibers) yield* Fiber.join(f)
        yield* Fiber.join(audit)
        yield* cluster.clearFilters
        const t = yield* begin(backend)
        assert.strictEqual(yield* total(t), ACCOUNTS * INITIAL)
        assert.isAtLeast(yield* Ref.get(committed), 9, "every phase committed transfers")
      }).pipe(Effect.scoped),
    90_000
  )
})
