/** The receiving handlers: ordered delivery of `Raft` batches and reassembly of `Snapshot` pieces. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Queue, TestClock } from "effect"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { withoutSnapshotData } from "../../src/layers/transportSnapshot.js"
import { makeRaftHandlers, type RaftHandlersOptions } from "../../src/server/raftHandlers.js"
import { bytesEqual, indexes, messages, patternBytes, plain, raftMessage, s1, s2, takeN } from "./fixtures.js"

const setup = (options: Partial<RaftHandlersOptions> = {}) =>
  Effect.gen(function* () {
    const inbox = yield* Queue.unbounded<RaftMessage>()
    const handlers = yield* makeRaftHandlers((m) => Queue.offer(inbox, m), options)
    return { inbox, handlers }
  })

const snapshotMessage = (bytes: number) =>
  raftMessage({ from: s1, to: s2, index: 9, snapshotData: patternBytes(bytes) })

/** The pieces a sender makes of `m`, `size` bytes each. */
const piecesOf = (transferId: string, m: RaftMessage, size: number) => {
  const data = m.message.snapshot!.data
  const count = Math.max(1, Math.ceil(data.length / size))
  return Array.from({ length: count }, (_, seq) => ({
    transferId,
    seq,
    last: seq === count - 1,
    data: data.subarray(seq * size, (seq + 1) * size),
    ...(seq === 0 ? { message: withoutSnapshotData(m) } : {})
  }))
}

const errorTag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (e) => e._tag)

describe("Raft handler", () => {
  it.scoped("delivers every message of every batch, in order", () =>
    Effect.gen(function* () {
      const { inbox, handlers } = yield* setup()
      for (let i = 0; i < 5; i++) yield* handlers.Raft({ messages: messages(s1, s2, 20, 1 + i * 20) })
      assert.deepStrictEqual(
        indexes(yield* takeN(inbox, 100)),
        Array.from({ length: 100 }, (_, i) => 1 + i)
      )
    })
  )
})

describe("Snapshot handler", () => {
  it.scoped("reassembles the pieces and delivers the MsgSnapshot with its data restored", () =>
    Effect.gen(function* () {
      const { inbox, handlers } = yield* setup()
      const m = snapshotMessage(2500)
      yield* Effect.forEach(piecesOf("t1", m, 1024), handlers.Snapshot, { discard: true })
      const [got] = yield* takeN(inbox, 1)
      assert.deepStrictEqual(plain(got), plain(m))
      assert.isTrue(bytesEqual(got!.message.snapshot!.data, m.message.snapshot!.data))
    })
  )

  it.scoped("a transfer of one piece, and one with empty data, both arrive", () =>
    Effect.gen(function* () {
      const { inbox, handlers } = yield* setup()
      yield* Effect.forEach(piecesOf("a", snapshotMessage(10), 1024), handlers.Snapshot, { discard: true })
      yield* Effect.forEach(piecesOf("b", snapshotMessage(0), 1024), handlers.Snapshot, { discard: true })
      const got = yield* takeN(inbox, 2)
      assert.deepStrictEqual(
        got.map((m) => m.message.snapshot!.data.length),
        [10, 0]
      )
    })
  )

  it.scoped("a piece out of sequence is refused with InvalidArgument and ends its transfer", () =>
    Effect.gen(function* () {
      const { inbox, handlers } = yield* setup()
      const [p0, p1, p2] = piecesOf("t", snapshotMessage(3000), 1024)
      yield* handlers.Snapshot(p0!)
      assert.strictEqual(yield* errorTag(handlers.Snapshot(p2!)), "InvalidArgument")
      assert.strictEqual(yield* errorTag(handlers.Snapshot(p1!)), "InvalidArgument")
      assert.strictEqual(yield* errorTag(handlers.Snapshot({ ...p1!, seq: -1 })), "InvalidArgument")
      assert.strictEqual(yield* Queue.size(inbox), 0)
    })
  )

  it.scoped("piece 0 must carry a MsgSnapshot", () =>
    Effect.gen(function* () {
      const { handlers } = yield* setup()
      const data = new Uint8Array(4)
      assert.strictEqual(
        yield* errorTag(handlers.Snapshot({ transferId: "x", seq: 0, last: true, data })),
        "InvalidArgument"
      )
      const noSnapshot = raftMessage({ from: s1, to: s2, index: 1 })
      assert.strictEqual(
        yield* errorTag(handlers.Snapshot({ transferId: "y", seq: 0, last: true, message: noSnapshot, data })),
        "InvalidArgument"
      )
    })
  )

  it.scoped("a transfer over the size limit is dropped", () =>
    Effect.gen(function* () {
      const { inbox, handlers } = yield* setup({ maxTransferBytes: 2048 })
      const [p0, p1, p2] = piecesOf("big", snapshotMessage(3000), 1024)
      yield* handlers.Snapshot(p0!)
      yield* handlers.Snapshot(p1!)
      assert.strictEqual(yield* errorTag(handlers.Snapshot(p2!)), "InvalidArgument")
      assert.strictEqual(yield* Queue.size(inbox), 0)
    })
  )

  it.scoped("too many transfers at once: the next one is refused with ServerIsBusy", () =>
    Effect.gen(function* () {
      const { handlers } = yield* setup({ maxTransfers: 1 })
      yield* handlers.Snapshot(piecesOf("a", snapshotMessage(3000), 1024)[0]!)
      assert.strictEqual(
        yield* errorTag(handlers.Snapshot(piecesOf("b", snapshotMessage(3000), 1024)[0]!)),
        "ServerIsBusy"
      )
    })
  )

  it.scoped("a stalled transfer is dropped after the stall timeout, freeing its slot", () =>
    Effect.gen(function* () {
      const { inbox, handlers } = yield* setup({ maxTransfers: 1, stallTimeout: "60 seconds" })
      const stalled = piecesOf("stalled", snapshotMessage(3000), 1024)
      yield* handlers.Snapshot(stalled[0]!)
      // the stall timeout is what is under test: the test drives its clock across it
      yield* TestClock.adjust("59 seconds")
      yield* handlers.Snapshot(stalled[1]!)
      yield* TestClock.adjust("61 seconds")
      assert.strictEqual(yield* errorTag(handlers.Snapshot(stalled[2]!)), "InvalidArgument")
      const fresh = snapshotMessage(100)
      yield* Effect.forEach(piecesOf("fresh", fresh, 1024), handlers.Snapshot, { discard: true })
      const [got] = yield* takeN(inbox, 1)
      assert.strictEqual(got!.message.snapshot!.data.length, 100)
    })
  )
})
