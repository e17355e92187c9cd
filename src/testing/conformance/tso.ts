/**
 * The `Tso` conformance suite: what a timestamp oracle promises (see `services/Tso.ts`).
 *
 * - Timestamps are strictly increasing, concurrent callers included, and never go back when the clock
 *   steps back.
 * - `next(n)` reserves `n` consecutive timestamps and returns the last: it is at least `n` above the
 *   previous answer, also when a batch overflows the logical bits of one millisecond.
 * - The physical part follows the clock (`physical ms << 18 | logical`).
 * - When the oracle persists (`restart` given): after a restart, even with the clock an hour behind,
 *   every timestamp is above every one handed out before.
 *
 * By default the tests run under `TestClock` and drive it (the oracles read Effect's `Clock`); pass
 * `live: true` for an oracle that cannot run on simulated time (e.g. one behind a socket): the
 * clock-driving tests are then left out.
 */
import { Effect, type Layer, type Scope, TestClock } from "effect"
import type { Timestamp } from "../../protocol/ids.js"
import { physicalTime, Tso } from "../../services/Tso.js"
import { type Assert, vitest } from "./vitest.js"

export interface TsoUnderTest {
  /** A fresh oracle; `restart`, when the oracle persists, builds it again on the same data. */
  readonly fresh: () => {
    readonly layer: Layer.Layer<Tso, unknown>
    readonly restart?: () => Layer.Layer<Tso, unknown>
  }
  /** Run on the live clock, without the tests that drive the clock. */
  readonly live?: boolean
  /** Per-test timeout in ms (default 30 000). */
  readonly timeout?: number
}

const T0 = 1_700_000_000_000

/** Runs the Tso suite on the oracles `oracle.fresh()` builds (one per test). */
export const tsoConformance = (name: string, oracle: TsoUnderTest) => {
  const { describe, it } = vitest()
  const assert: Assert = vitest().assert
  const assertIncreasing = (ts: ReadonlyArray<Timestamp>) => {
    for (let i = 1; i < ts.length; i++)
      assert.isTrue(ts[i]! > ts[i - 1]!, `ts[${i}] ${ts[i]} > ts[${i - 1}] ${ts[i - 1]}`)
  }
  return describe(`Tso conformance: ${name}`, () => {
    const timeout = oracle.timeout ?? 30_000
    const live = oracle.live ?? false
    const test = live ? it.live : it.effect
    const withTso = <A, E>(
      layer: Layer.Layer<Tso, unknown>,
      f: (tso: Tso["Type"]) => Effect.Effect<A, E, Scope.Scope>
    ) => Effect.scoped(Effect.flatMap(Tso, f).pipe(Effect.provide(layer)))
    const start = live ? Effect.void : TestClock.setTime(T0)

    test(
      "strictly increasing over many calls, and a batch of n reserves n timestamps",
      () =>
        Effect.gen(function* () {
          yield* start
          yield* withTso(oracle.fresh().layer, (tso) =>
            Effect.gen(function* () {
              const out: Array<Timestamp> = []
              for (let i = 0; i < (live ? 300 : 2000); i++) {
                const count = 1 + (i % 7)
                const t = yield* tso.next(count)
                if (out.length > 0) assert.isTrue(t - out[out.length - 1]! >= BigInt(count), `next(${count}) at ${i}`)
                out.push(t)
              }
              assertIncreasing(out)
            })
          )
        }),
      timeout
    )

    test(
      "concurrent callers get distinct timestamps, each above the ones before",
      () =>
        Effect.gen(function* () {
          yield* start
          yield* withTso(oracle.fresh().layer, (tso) =>
            Effect.gen(function* () {
              const before = yield* tso.next(1)
              const ts = yield* Effect.all(
                Array.from({ length: 200 }, (_, i) => tso.next(1 + (i % 3))),
                { concurrency: 50 }
              )
              assert.strictEqual(new Set(ts).size, ts.length)
              assert.isTrue(
                ts.every((t) => t > before),
                "all above the earlier timestamp"
              )
            })
          )
        }),
      timeout
    )

    if (!live) {
      it.effect(
        "batches that overflow one millisecond's logical bits carry into the physical part",
        () =>
          Effect.gen(function* () {
            yield* TestClock.setTime(T0)
            yield* withTso(oracle.fresh().layer, (tso) =>
              Effect.gen(function* () {
                const out = [yield* tso.next(1)]
                for (let i = 0; i < 3; i++) {
                  const t = yield* tso.next(1 << 17)
                  assert.isTrue(t - out[out.length - 1]! >= BigInt(1 << 17), "the whole batch is reserved")
                  out.push(t)
                }
                assertIncreasing(out)
                assert.isAbove(Number(physicalTime(out[out.length - 1]!)), T0, "carried into the next millisecond")
              })
            )
          }),
        timeout
      )

      it.effect(
        "the physical part follows the clock forward, and never goes back when the clock does",
        () =>
          Effect.gen(function* () {
            yield* TestClock.setTime(T0)
            yield* withTso(oracle.fresh().layer, (tso) =>
              Effect.gen(function* () {
                const a = yield* tso.next(1)
                assert.strictEqual(Number(physicalTime(a)), T0)
                // the oracle is the thing under test here: the test moves its clock
                yield* TestClock.adjust("10 seconds")
                const b = yield* tso.next(1)
                assert.strictEqual(Number(physicalTime(b)), T0 + 10_000)
                yield* TestClock.setTime(T0 - 60_000)
                const c = yield* tso.next(1)
                const d = yield* tso.next(5)
                assertIncreasing([a, b, c, d])
              })
            )
          }),
        timeout
      )

      const { restart } = oracle.fresh()
      if (restart !== undefined) {
        it.effect(
          "after a restart with the clock an hour behind, every timestamp is above every earlier one",
          () =>
            Effect.gen(function* () {
              yield* TestClock.setTime(T0)
              const { layer, restart: again } = oracle.fresh()
              const before = yield* withTso(layer, (tso) => Effect.all([tso.next(1), tso.next(100), tso.next(1)]))
              yield* TestClock.setTime(T0 - 3_600_000)
              const after = yield* withTso(again!(), (tso) => Effect.all([tso.next(1), tso.next(1)]))
              // and once more without a clock change
              const third = yield* withTso(again!(), (tso) => tso.next(1))
              assertIncreasing([...before, ...after, third])
            }),
          timeout
        )
      }
    }
  })
}
