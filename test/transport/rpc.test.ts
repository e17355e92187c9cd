/** The live transport between two "stores" in one process, over real TCP. */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Logger, LogLevel, Queue, Scope, Supervisor } from "effect"
import { layerTransportRpc, type TransportRpcOptions } from "../../src/layers/transportRpc.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { Transport } from "../../src/services/Transport.js"
import { bytesEqual, indexes, messages, patternBytes, raftMessage, s1, s2, s3, takeN } from "./fixtures.js"
import { eventually } from "../../src/testing/eventually.js"
import { deadAddress, openSockets, startRaftStore } from "./liveStore.js"

/** Builds the transport of store 1 in the current scope, resolving through `addresses`. */
const transportOf = (addresses: Map<StoreId, string>, options: Partial<TransportRpcOptions> = {}) =>
  Effect.map(
    Layer.build(layerTransportRpc({ resolve: (s) => Effect.sync(() => addresses.get(s)), ...options })),
    Context.get(Transport)
  )

const fastRetry = { backoffInitial: "20 millis", backoffMax: "100 millis", connectTimeout: "2 seconds" } as const

describe("RPC transport", () => {
  it.scopedLive("1,000 messages arrive in order, batched into few Raft calls", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const transport = yield* transportOf(new Map([[s2, store.address]]))
      for (let i = 0; i < 100; i++) yield* transport.send(messages(s1, s2, 10, 1 + i * 10))
      const got = yield* takeN(store.inbox, 1000).pipe(Effect.timeout("20 seconds"))
      assert.deepStrictEqual(
        indexes(got),
        Array.from({ length: 1000 }, (_, i) => 1 + i)
      )
      const batches = store.raftCalls.filter((n) => n > 0)
      // the 100 sends run back to back, so the link finds hundreds queued each time it wakes
      assert.isAtMost(batches.length, 50, `${batches.length} Raft calls`)
      assert.strictEqual(
        batches.reduce((a, b) => a + b, 0),
        1000
      )
    })
  )

  it.scopedLive("a 5 MiB snapshot arrives intact in 1 MiB pieces, beside ordinary messages", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const transport = yield* transportOf(new Map([[s2, store.address]]))
      const data = patternBytes(5 * 1024 * 1024, 3)
      const snapshot = raftMessage({ from: s1, to: s2, index: 500, snapshotData: data })
      yield* transport.send([
        raftMessage({ from: s1, to: s2, index: 1 }),
        snapshot,
        raftMessage({ from: s1, to: s2, index: 2 })
      ])
      const got = yield* takeN(store.inbox, 3).pipe(Effect.timeout("20 seconds"))
      assert.sameMembers(indexes(got), [1, 2, 500])
      const arrived = got.find((m) => m.message.index === 500)!
      assert.strictEqual(arrived.message.msgType, "MsgSnapshot")
      assert.deepStrictEqual(arrived.message.snapshot!.metadata, snapshot.message.snapshot!.metadata)
      assert.isTrue(bytesEqual(arrived.message.snapshot!.data, data))
      const pieces = store.pieces
      assert.isAtLeast(pieces.length, 5)
      assert.deepStrictEqual(
        pieces.map((p) => p.seq),
        pieces.map((_, i) => i)
      )
      assert.isTrue(pieces.every((p) => p.bytes <= 1024 * 1024 && p.transferId === pieces[0]!.transferId))
      assert.deepStrictEqual(
        pieces.map((p) => p.last),
        pieces.map((_, i) => i === pieces.length - 1)
      )
      assert.strictEqual(pieces[0]!.messageDataBytes, 0)
    })
  )

  it.scopedLive("a message too large for one frame is dropped; the connection carries on", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const transport = yield* transportOf(new Map([[s2, store.address]]))
      const huge = raftMessage({ from: s1, to: s2, index: 2, entryData: new Uint8Array(16 * 1024 * 1024) })
      yield* transport.send([
        raftMessage({ from: s1, to: s2, index: 1 }),
        huge,
        raftMessage({ from: s1, to: s2, index: 3 })
      ])
      yield* transport.send([raftMessage({ from: s1, to: s2, index: 4 })])
      assert.deepStrictEqual(indexes(yield* takeN(store.inbox, 3).pipe(Effect.timeout("10 seconds"))), [1, 3, 4])
    })
  )

  it.scopedLive("an unreachable store: sends drop without failing, delivery resumes once it is up", () => {
    const dropped = { count: 0 }
    // counts the messages the transport reports dropped (its debug log `dropped N messages`); replaces the
    // console logger for this test, which would print every debug line
    const dropCounter = Logger.make(({ message }) => {
      const text = Array.isArray(message) ? message.join(" ") : String(message)
      const n = /dropped (\d+) messages/.exec(text)
      if (n !== null) dropped.count += Number(n[1])
    })
    return Effect.gen(function* () {
      const addresses = new Map<StoreId, string>()
      const transport = yield* transportOf(addresses, fastRetry)
      // no address at all, then an address nothing listens on; each time, wait until the link has dropped
      // the messages (it logs each drop) rather than for a guessed while
      yield* transport.send(messages(s1, s2, 5, 1))
      yield* eventually(() => dropped.count >= 5, { what: "the link to drop the messages to a store without address" })
      addresses.set(s2, yield* deadAddress)
      yield* transport.send(messages(s1, s2, 5, 6))
      yield* eventually(() => dropped.count >= 10, { what: "the link to drop the messages to a dead address" })
      yield* transport.send(messages(s1, s2, 5, 11))
      yield* eventually(() => dropped.count >= 15, { what: "the link to drop the messages while backing off" })
      // the store comes up (on another port: the transport must resolve again)
      const store = yield* startRaftStore
      addresses.set(s2, store.address)
      let next = 100
      yield* eventually(
        Effect.gen(function* () {
          yield* transport.send(messages(s1, s2, 1, next++))
          return (yield* Queue.size(store.inbox)) > 0
        }),
        { what: "a message to arrive after the store came up" }
      )
      const first = yield* Queue.take(store.inbox)
      assert.isAtLeast(first.message.index, 100, "nothing sent while the store was down arrives")
    }).pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, dropCounter)),
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
  })

  it.scopedLive("messages to several stores go over separate links; one dead store does not hold up the other", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const addresses = new Map<StoreId, string>([
        [s2, store.address],
        [s3, yield* deadAddress]
      ])
      const transport = yield* transportOf(addresses, fastRetry)
      for (let i = 0; i < 20; i++) {
        yield* transport.send([...messages(s1, s3, 5, 1000 + i * 5), ...messages(s1, s2, 5, 1 + i * 5)])
      }
      const got = yield* takeN(store.inbox, 100).pipe(Effect.timeout("10 seconds"))
      assert.deepStrictEqual(
        indexes(got),
        Array.from({ length: 100 }, (_, i) => 1 + i)
      )
    })
  )

  it.live("closing the layer's scope closes every connection and fiber", () =>
    Effect.scoped(
      Effect.gen(function* () {
        // the earlier tests' connections close asynchronously after their scopes; start from none
        yield* eventually(
          Effect.map(openSockets, (n) => n === 0),
          { what: "earlier tests' sockets to close" }
        )
        const store = yield* startRaftStore
        const before = yield* openSockets
        const supervisor = yield* Supervisor.track
        const scope = yield* Scope.make()
        yield* Effect.gen(function* () {
          const transport = yield* transportOf(new Map([[s2, store.address]])).pipe(Scope.extend(scope))
          yield* transport.send(messages(s1, s2, 10))
          yield* transport.send([raftMessage({ from: s1, to: s2, index: 11, snapshotData: patternBytes(3 << 20) })])
          yield* takeN(store.inbox, 11).pipe(Effect.timeout("10 seconds"))
        }).pipe(Effect.supervised(supervisor))
        assert.isAtLeast(yield* openSockets, before + 2, "a client socket and the server's end of it")
        assert.isNotEmpty(yield* supervisor.value)
        yield* Scope.close(scope, Exit.void)
        yield* eventually(
          Effect.map(openSockets, (n) => n === before),
          { what: "the sockets of the connection to close" }
        )
        yield* eventually(
          Effect.map(supervisor.value, (fibers) => fibers.length === 0),
          { what: "the transport's fibers to end" }
        )
        const leftover = yield* supervisor.value
        assert.deepStrictEqual(leftover.map(Fiber.id), [])
      })
    )
  )
})
