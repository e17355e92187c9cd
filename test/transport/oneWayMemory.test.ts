/**
 * One-way `Raft` batches (what the live transport's links write, `src/layers/raftLink.ts`) leave nothing
 * behind in the sender. They are never answered; @effect/rpc's client keeps an entry for each call until
 * its answer comes, so sent through the client they grew the sender's heap by 110–150 bytes a batch, for
 * ever (docs/PERFORMANCE.md, "Where the memory goes"). The heap is compared after full collections, so
 * only what is still reachable counts.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue } from "effect"
import { layerTransportRpc } from "../../src/layers/transportRpc.js"
import { Transport } from "../../src/services/Transport.js"
import { eventually } from "../../src/testing/eventually.js"
import { messages, s1, s2 } from "./fixtures.js"
import { startRaftStore } from "./liveStore.js"

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const liveHeap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const BATCHES = 30_000

describe("one-way Raft batches", () => {
  it.scopedLive(
    `${BATCHES} one-way batches are all delivered and keep nothing in the sender`,
    () =>
      Effect.gen(function* () {
        const store = yield* startRaftStore
        const transport = yield* Effect.map(
          Layer.build(layerTransportRpc({ resolve: () => Effect.succeed(store.address) })),
          Context.get(Transport)
        )
        const message = messages(s1, s2, 1)
        // one send is one batch once connected (those sent while it connects go as one); delivered messages
        // are taken out of the receiver's inbox (same heap) as they come
        const sendAll = (n: number) =>
          Effect.forEach(Array.from({ length: n }), () => transport.send(message), { discard: true })
        const delivered = (n: number, what: string) =>
          eventually(
            Effect.map(Queue.takeAll(store.inbox), () => store.raftCalls.reduce((a, b) => a + b, 0) === n),
            { timeout: "60 seconds", what }
          )
        // warm up: the connection, its buffers and the code paths exist before the baseline
        yield* sendAll(1_000)
        yield* delivered(1_000, "the warm-up")
        const before = liveHeap()

        yield* sendAll(BATCHES)
        // one-way: nothing comes back, so delivery is seen at the receiver
        yield* delivered(1_000 + BATCHES, "every batch delivered")
        const grown = liveHeap() - before
        // measured: ~27 bytes a batch (the receiver's record of each call, in this same heap, and the
        // connection's buffers); ~150 when every batch left a pending entry in @effect/rpc's client
        assert.isBelow(grown, BATCHES * 80, `the heap grew ${grown} bytes over ${BATCHES} batches`)
      }),
    90_000
  )
})
