/**
 * One-way `Raft` batches (`PeerConnection.raftOneWay`) leave nothing behind in the sender. They are
 * never answered, and @effect/rpc's client keeps an entry for each call until its answer comes: sent
 * through the client they grew the sender's heap by 110–150 bytes a batch, for ever (docs/PERFORMANCE.md,
 * "Where the memory goes"). The heap is compared after full collections, so only what is still
 * reachable counts.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connectStore } from "../../src/rpc/storeConnection.js"
import { eventually } from "../../src/testing/eventually.js"
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
        const connection = yield* connectStore(store.address)
        // warm up: the connection, its buffers and the code paths exist before the baseline
        yield* connection.call("Raft", (c) => c.Raft({ messages: [] }))
        const sendAll = (n: number) => Effect.forEach(Array.from({ length: n }), () => connection.raftOneWay([]))
        yield* sendAll(1_000)
        yield* eventually(() => store.raftCalls.length === 1_001, { timeout: "30 seconds", what: "the warm-up" })
        const before = liveHeap()

        yield* sendAll(BATCHES)
        // one-way: nothing comes back, so delivery is seen at the receiver
        yield* eventually(() => store.raftCalls.length === 1_001 + BATCHES, {
          timeout: "60 seconds",
          what: "every batch delivered"
        })
        const grown = liveHeap() - before
        // measured: ~27 bytes a batch (the receiver's record of each call, in this same heap, and the
        // connection's buffers); ~150 when every batch left a pending entry in @effect/rpc's client
        assert.isBelow(grown, BATCHES * 80, `the heap grew ${grown} bytes over ${BATCHES} batches`)
      }),
    90_000
  )
})
