/**
 * The bank invariant: concurrent random transfers through client transactions never change the
 * total, and every concurrent read-only snapshot sees exactly that total (snapshot isolation: no
 * lost updates, no torn reads). A fast-check property over the transfer plans; on failure
 * fast-check reports the seed (and every assertion message names it). Reproduce with
 * `TXN_BANK_SEED=<seed> npx vitest run test/transaction/bank.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, FastCheck as fc, Fiber, Option, Random, Ref } from "effect"
import { begin, backendFromHandlers, isRetryable, transact, type TxnBackend } from "../../src/client/transaction.js"
import { layerKvMemory } from "../../src/layers/kvStorageStandalone.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { CF_LOCK } from "../../src/services/Storage.js"
import { makeTxnHandlersWith } from "../../src/transaction/handlers.js"
import { makeLocalTso } from "../../src/transaction/localTso.js"

const ACCOUNTS = 6
const INITIAL = 100
const TOTAL = ACCOUNTS * INITIAL
const seed = Number(process.env.TXN_BANK_SEED ?? Math.floor(Math.random() * 2 ** 31))

const account = (i: number) => utf8(`acct-${String(i).padStart(2, "0")}`)
const decode = (v: Option.Option<Uint8Array>) => Number(fromUtf8(Option.getOrThrow(v)))

/**
 * Every backend call first pauses — a yield, or a sleep of up to 2 ms — so fibers interleave
 * between any two protocol steps and the windows between a commit decision and its secondaries
 * stay open long enough for readers to fall into them.
 */
const pause = Effect.flatMap(Random.nextIntBetween(0, 4), (n) =>
  n < 2 ? Effect.yieldNow() : Effect.sleep(Duration.millis(n - 1))
)

const interleaving = (b: TxnBackend): TxnBackend => {
  const y =
    <A extends ReadonlyArray<unknown>, R, E>(f: (...args: A) => Effect.Effect<R, E>) =>
    (...args: A) =>
      Effect.zipRight(pause, f(...args))
  return {
    tso: Effect.zipRight(pause, b.tso),
    groupByRegion: b.groupByRegion,
    KvGet: y(b.KvGet),
    KvScan: y(b.KvScan),
    KvPrewrite: y(b.KvPrewrite),
    KvCommit: y(b.KvCommit),
    KvCheckTxnStatus: y(b.KvCheckTxnStatus),
    KvBatchRollback: y(b.KvBatchRollback),
    KvResolveLock: y(b.KvResolveLock)
  }
}

type Transfer = readonly [from: number, to: number, amount: number]

const transferArb = fc.tuple(
  fc.integer({ min: 0, max: ACCOUNTS - 1 }),
  fc.integer({ min: 0, max: ACCOUNTS - 1 }),
  fc.integer({ min: 1, max: 40 })
)
const planArb = fc.array(fc.array(transferArb, { minLength: 4, maxLength: 10 }), { minLength: 3, maxLength: 5 })

const runBank = (plan: ReadonlyArray<ReadonlyArray<Transfer>>) =>
  Effect.gen(function* () {
    const storage = yield* KvStorage
    const handlers = yield* makeTxnHandlersWith({ validateLatches: true })
    const tso = yield* makeLocalTso
    const backend = interleaving(backendFromHandlers(handlers, tso.next))
    const where = `(seed ${seed}, plan ${JSON.stringify(plan)})`

    yield* transact(backend, (t) =>
      Effect.forEach(
        Array.from({ length: ACCOUNTS }, (_, i) => i),
        (i) => t.set(account(i), utf8(String(INITIAL)))
      )
    )

    const committed = yield* Ref.make(0)
    const gaveUp = yield* Ref.make(0)
    const snapshots = yield* Ref.make(0)

    const transfer = ([from, to, amount]: Transfer) =>
      transact(
        backend,
        (t) =>
          Effect.gen(function* () {
            const a = decode(yield* t.get(account(from)))
            yield* Effect.yieldNow()
            const b = decode(yield* t.get(account(to)))
            if (from === to || a < amount) return
            yield* t.set(account(from), utf8(String(a - amount)))
            yield* t.set(account(to), utf8(String(b + amount)))
          }),
        { retries: 30 }
      ).pipe(
        Effect.zipRight(Ref.update(committed, (n) => n + 1)),
        // the invariant must hold whatever gives up; only count it
        Effect.catchIf(isRetryable, () => Ref.update(gaveUp, (n) => n + 1))
      )

    /** A read-only snapshot by point reads (odd) or one scan (even); its total must be exact. */
    const audit = (n: number) =>
      Effect.gen(function* () {
        const t = yield* begin(backend)
        let sum = 0
        if (n % 2 === 0) {
          const rows = yield* t.scan(utf8("acct-"), ACCOUNTS + 1)
          assert.strictEqual(rows.length, ACCOUNTS, `scan saw ${rows.length} accounts ${where}`)
          for (const r of rows) sum += Number(fromUtf8(r.value))
        } else {
          for (let i = 0; i < ACCOUNTS; i++) sum += decode(yield* t.get(account(i)))
        }
        assert.strictEqual(sum, TOTAL, `snapshot at ${t.startTs} saw total ${sum} ${where}`)
        yield* t.commit
        yield* Ref.update(snapshots, (k) => k + 1)
      })

    const writers = yield* Effect.fork(
      Effect.forEach(plan, (transfers) => Effect.forEach(transfers, transfer, { discard: true }), {
        concurrency: "unbounded",
        discard: true
      })
    )
    const auditors = yield* Effect.fork(
      Effect.forEach(
        [0, 1],
        (k) =>
          Effect.gen(function* () {
            for (let n = k; ; n += 2) {
              yield* audit(n)
              // lets the writers run between audits
              yield* Effect.yieldNow()
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
    )
    yield* Fiber.join(writers)
    yield* Fiber.interrupt(auditors)
    // an auditor that failed its assertion failed the fiber: surface it
    const auditExit = yield* Fiber.await(auditors)
    if (auditExit._tag === "Failure" && !Cause.isInterruptedOnly(auditExit.cause)) {
      return yield* Effect.failCause(auditExit.cause)
    }

    yield* audit(0)
    yield* audit(1)
    const locks = yield* Effect.scoped(
      Effect.map(storage.reader(undefined, "txn"), (r) => Array.from(r.iterCF(CF_LOCK, new Uint8Array(0))).length)
    )
    assert.strictEqual(locks, 0, `locks left behind ${where}`)
    const done = yield* Ref.get(committed)
    assert.isAbove(done, 0, `no transfer committed ${where}`)
    assert.strictEqual(done + (yield* Ref.get(gaveUp)), plan.flat().length, `transfers lost ${where}`)
    assert.isAbove(yield* Ref.get(snapshots), 2, `too few snapshots ${where}`)
  }).pipe(Effect.provide(layerKvMemory))

describe("bank invariant", () => {
  it.live.prop("concurrent transfers keep the total; every snapshot sees it", [planArb], ([plan]) => runBank(plan), {
    timeout: 40_000,
    fastCheck: { seed, numRuns: 6, endOnFailure: true }
  })
})
