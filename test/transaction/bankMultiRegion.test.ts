/**
 * The bank invariant over many regions (the multi-raft issue): 5 stores with tiny regions (split past
 * 300 bytes into pieces of 200, TinyKV's split-test sizes), 10 % message loss and a conf changer adding
 * and removing replicas at random, while clients move money between accounts spread over the regions
 * through the in-process cluster client, and an auditor reads every balance in one transaction. Every
 * snapshot and the end state hold the same total; the accounts end up in many regions; no lock is left.
 * A wrong total names the committed transfers missing one half in the stores' MVCC histories
 * (`bankHistory.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Ref } from "effect"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { compareBytes, fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { mulberry32 } from "../../src/raft/index.js"
import {
  allocPeer,
  mustAddPeer,
  mustRemovePeer,
  randomRegion,
  schedulerRegions
} from "../../src/testing/clusterAdmin.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "../raftstore/generic.js"
import { explain, locksHeld, type Transfer } from "./bankHistory.js"

const ACCOUNTS = 16
const INITIAL = 100
const TOTAL = ACCOUNTS * INITIAL
const CLIENTS = 3
/** Long keys, so that a few versions of a few accounts already fill a 300-byte region. */
const account = (i: number) => utf8(`acct-${String(i).padStart(3, "0")}-${"#".repeat(40)}`)

describe("bank over many regions", () => {
  it.live(
    "splits, conf changes and 10% message loss: every snapshot and the end hold the total",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const rand = mulberry32(seed)
        const cluster = yield* TestCluster.make({
          stores: 5,
          seed,
          config: { regionMaxSize: 300, regionSplitSize: 200 }
        })
        yield* cluster.start
        const run = Effect.gen(function* () {
          const kv = yield* TinyKvClient
          yield* kv.transact((t) =>
            Effect.forEach(
              Array.from({ length: ACCOUNTS }, (_, i) => i),
              (i) => t.set(account(i), utf8(String(INITIAL))),
              { discard: true }
            )
          )
          const transfers: Array<Transfer> = []
          const committed = yield* Ref.make(0)
          const audits = yield* Ref.make(0)
          const confChanges = yield* Ref.make(0)
          const done = yield* Ref.make(false)

          const transfer = Effect.gen(function* () {
            const from = Math.floor(rand() * ACCOUNTS)
            const to = (from + 1 + Math.floor(rand() * (ACCOUNTS - 1))) % ACCOUNTS
            const amount = 1 + Math.floor(rand() * 20)
            yield* kv.transact(
              (t) =>
                Effect.gen(function* () {
                  const a = Number(fromUtf8(Option.getOrThrow(yield* t.get(account(from)))))
                  const b = Number(fromUtf8(Option.getOrThrow(yield* t.get(account(to)))))
                  if (a < amount) return
                  yield* t.set(account(from), utf8(String(a - amount)))
                  yield* t.set(account(to), utf8(String(b + amount)))
                  const commitTs = yield* t.commit
                  if (Option.isSome(commitTs)) {
                    transfers.push({ from, to, amount, startTs: t.startTs, commitTs: commitTs.value })
                  }
                }),
              { retries: 100 }
            )
            yield* Ref.update(committed, (n) => n + 1)
          })

          // a reader that waited out its lock budget (KeyIsLocked) starts over at a new timestamp; every
          // snapshot it completes is checked
          const audit = Effect.gen(function* () {
            yield* kv.transact(
              (t) =>
                Effect.gen(function* () {
                  const rows = yield* t.scan(utf8("acct-"), ACCOUNTS + 1)
                  assert.strictEqual(
                    rows.length,
                    ACCOUNTS,
                    `seed ${seed}: snapshot at ${t.startTs} saw ${rows.length} accounts`
                  )
                  const sum = rows.reduce((s, r) => s + Number(fromUtf8(r.value)), 0)
                  if (sum !== TOTAL) {
                    const why = yield* explain(cluster, transfers, (i) => fromUtf8(account(i)))
                    assert.fail(
                      `seed ${seed}: snapshot at ${t.startTs} saw total ${sum}: ${rows.map((r) => fromUtf8(r.value)).join(",")}\n${why}`
                    )
                  }
                }),
              { retries: 100 }
            )
            yield* Ref.update(audits, (n) => n + 1)
          })

          /** How many regions the accounts are spread over, as the scheduler knows them. */
          const accountRegions = Effect.map(schedulerRegions(cluster), (regions) => {
            const holding = Array.from({ length: ACCOUNTS }, (_, i) => account(i)).map(
              (k) =>
                regions.find(
                  ({ region: r }) =>
                    compareBytes(r.startKey, k) <= 0 && (r.endKey.length === 0 || compareBytes(k, r.endKey) < 0)
                )?.region.id
            )
            return new Set(holding).size
          })
          /** Until enough happened for the checks to mean something: transfers, audits, splits, conf changes. */
          const enough = Effect.gen(function* () {
            const c = yield* Ref.get(committed)
            const a = yield* Ref.get(audits)
            const cc = yield* Ref.get(confChanges)
            const r = yield* accountRegions
            if (c < 20 || a < 5 || cc < 4 || r < 4) {
              return yield* Effect.fail(`${c} transfers, ${a} audits, ${cc} conf changes, accounts in ${r} regions`)
            }
          })
          const untilEnough = (body: Effect.Effect<void, unknown>) =>
            Effect.gen(function* () {
              while (!(yield* Ref.get(done))) yield* body
            })

          yield* cluster.dropRate(0.1)
          const workers = yield* Effect.fork(
            Effect.all(
              [
                ...Array.from({ length: CLIENTS }, () => untilEnough(transfer)),
                untilEnough(audit),
                untilEnough(
                  Effect.gen(function* () {
                    const region = yield* randomRegion(cluster, rand)
                    const store = cluster.storeIds[Math.floor(rand() * cluster.storeIds.length)]!
                    const p = region.peers.find((x) => x.storeId === store)
                    if (p === undefined) yield* mustAddPeer(cluster, region.id, yield* allocPeer(cluster, store))
                    else if (region.peers.length > 2) yield* mustRemovePeer(cluster, region.id, p)
                    else return
                    yield* Ref.update(confChanges, (n) => n + 1)
                  })
                )
              ],
              { concurrency: "unbounded", discard: true }
            )
          )
          // a worker that fails ends them all: report its failure now, not as a stall at the deadline
          yield* Effect.raceFirst(
            eventually(enough, {
              what: `seed ${seed}: 20 transfers, 5 audits, 4 conf changes, the accounts in 4 regions`,
              timeout: "150 seconds",
              interval: "200 millis"
            }),
            Effect.zipRight(Fiber.join(workers), Effect.dieMessage(`seed ${seed}: the workers stopped early`))
          )
          yield* Ref.set(done, true)
          yield* cluster.clearFilters
          yield* Fiber.join(workers)
          yield* audit
          assert.isAtLeast(yield* accountRegions, 4, `seed ${seed}: the accounts are not spread over regions`)
          // the last audit met every lock older than it and resolved it; replicas catch up, removed ones go
          yield* eventually(
            Effect.map(locksHeld(cluster), (held) => assert.deepStrictEqual(held, [])),
            { what: `seed ${seed}: no store to hold a lock`, timeout: "30 seconds", interval: "200 millis" }
          )
        }).pipe(Effect.provide(cluster.clientLayer({ timeout: "500 millis", deadline: "60 seconds" })))
        yield* run
      }).pipe(Effect.scoped),
    240_000
  )
})
