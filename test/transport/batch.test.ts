/** Batching helpers shared by the transports. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Queue } from "effect"
import { batchesByBytes, fitsFrame, takeBatch } from "../../src/layers/transportBatch.js"
import { indexes, raftMessage, s1, s2 } from "./fixtures.js"

const withEntry = (index: number, bytes: number) =>
  raftMessage({ from: s1, to: s2, index, entryData: new Uint8Array(bytes) })

describe("transport batching", () => {
  it("batchesByBytes keeps the order and cuts at the byte budget; a larger message runs alone", () => {
    const ms = [withEntry(1, 1024), withEntry(2, 1024), withEntry(3, 1024), withEntry(4, 10_000), withEntry(5, 1024)]
    const batches = batchesByBytes(ms, 3000)
    assert.deepStrictEqual(
      batches.map((b) => indexes(b)),
      [[1, 2], [3], [4], [5]]
    )
    assert.deepStrictEqual(batchesByBytes([], 3000), [])
  })

  it("fitsFrame refuses a message that would pass the 16 MiB frame limit", () => {
    assert.isTrue(fitsFrame(withEntry(1, 8 * 1024 * 1024)))
    assert.isFalse(fitsFrame(withEntry(1, 16 * 1024 * 1024)))
  })

  it.effect("takeBatch wakes with everything one offerAll put in, up to the maximum", () =>
    Effect.gen(function* () {
      const queue = yield* Queue.unbounded<number>()
      const waiting = yield* Effect.fork(takeBatch(queue, 8))
      yield* Effect.yieldNow()
      yield* Queue.offerAll(queue, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      assert.deepStrictEqual(yield* Fiber.join(waiting), [1, 2, 3, 4, 5, 6, 7, 8])
      assert.deepStrictEqual(yield* takeBatch(queue, 8), [9, 10])
    })
  )
})
