/** The in-process network: codec on every hop, asynchronous FIFO delivery, and each fault filter. */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, Queue, Random, Scope, TestClock } from "effect"
import type { RegionId, StoreId } from "../../src/protocol/ids.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { delay, dropRate, hook, ignore, isolate, partition } from "../../src/layers/transportFilters.js"
import { layerTransportMemory, MemoryNetwork } from "../../src/layers/transportMemory.js"
import { eventually } from "../../src/testing/eventually.js"
import { Transport } from "../../src/services/Transport.js"
import { bytesEqual, indexes, messages, patternBytes, plain, raftMessage, s1, s2, s3 } from "./fixtures.js"

/** A network with stores 1–3, each with an inbox and a Transport, built in the test's scope. */
const cluster = (seed = 1) =>
  Effect.gen(function* () {
    const network = yield* MemoryNetwork.make({ seed })
    const inboxes = new Map<StoreId, Queue.Queue<RaftMessage>>()
    const transports = new Map<StoreId, Transport["Type"]>()
    for (const s of [s1, s2, s3]) {
      const inbox = yield* Queue.unbounded<RaftMessage>()
      inboxes.set(s, inbox)
      yield* network.register(s, (m) => Queue.offer(inbox, m))
      transports.set(s, Context.get(yield* Layer.build(layerTransportMemory(network, s)), Transport))
    }
    return {
      network,
      inbox: (s: StoreId) => inboxes.get(s)!,
      send: (from: StoreId, ms: ReadonlyArray<RaftMessage>) => transports.get(from)!.send(ms)
    }
  })

/** Takes from `inbox` up to and including the message with `index`; per-link FIFO makes it a barrier. */
const receiveUntil = (inbox: Queue.Queue<RaftMessage>, index: number) =>
  Effect.gen(function* () {
    const out: Array<RaftMessage> = []
    for (;;) {
      const m = yield* Queue.take(inbox)
      out.push(m)
      if (m.message.index === index) return out
    }
  })

/** Lets every runnable fiber run (no time passes under TestClock). */
const settle = Effect.forEach(Array.from({ length: 50 }), () => Effect.yieldNow(), { discard: true })

describe("memory transport: codec and delivery", () => {
  it.scoped("a message arrives equal to what was sent, as a copy that went through the codec", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      const sent: RaftMessage = {
        ...raftMessage({
          from: s1,
          to: s2,
          index: 5,
          entryData: patternBytes(300),
          snapshotData: patternBytes(4096, 9)
        }),
        startKey: new Uint8Array([1, 2, 3]),
        endKey: new Uint8Array([])
      }
      yield* net.send(s1, [sent])
      const got = yield* Queue.take(net.inbox(s2))
      assert.deepStrictEqual(plain(got), plain(sent))
      assert.notStrictEqual(got, sent)
      assert.notStrictEqual(got.message.entries[0]!.data, sent.message.entries[0]!.data)
      assert.isTrue(bytesEqual(got.message.snapshot!.data, sent.message.snapshot!.data))
      assert.isTrue(bytesEqual(got.startKey!, new Uint8Array([1, 2, 3])))
    })
  )

  it.scoped("a message that does not fit its Schema makes send die, so the bug shows in the test", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      const bad = { ...raftMessage({ from: s1, to: s2, index: 1 }), regionId: -1 as RegionId }
      const exit = yield* Effect.exit(net.send(s1, [bad]))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
    })
  )

  it.scoped("delivery runs on another fiber, after send has returned", () =>
    Effect.gen(function* () {
      const network = yield* MemoryNetwork.make({ seed: 1 })
      const seen = yield* Queue.unbounded<string>()
      yield* network.register(s2, () => Effect.flatMap(Effect.fiberId, (id) => Queue.offer(seen, String(id))))
      const transport = Context.get(yield* Layer.build(layerTransportMemory(network, s1)), Transport)
      yield* transport.send(messages(s1, s2, 1))
      assert.strictEqual(yield* Queue.size(seen), 0)
      const deliveredOn = yield* Queue.take(seen)
      assert.notStrictEqual(deliveredOn, String(yield* Effect.fiberId))
    })
  )

  // per-link order (several senders, one destination) is in the Transport conformance suite, run on this layer

  it.scoped("a stopped (unregistered) store loses the messages sent or in flight to it", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      yield* net.network.unregister(s2)
      yield* net.send(s1, messages(s1, s2, 1, 1))
      yield* eventually(
        Effect.map(net.network.stats(), (s) => s.undeliverable === 1),
        { what: "the message to an unregistered store to be given up" }
      )
      // in flight: queued while registered, unregistered before its delivery fiber ran
      yield* net.network.register(s2, (m) => Queue.offer(net.inbox(s2), m))
      yield* net.send(s1, messages(s1, s2, 1, 2))
      yield* net.network.unregister(s2)
      yield* eventually(
        Effect.map(net.network.stats(), (s) => s.undeliverable === 2),
        { what: "the message in flight to be given up" }
      )
      yield* net.network.register(s2, (m) => Queue.offer(net.inbox(s2), m))
      yield* net.send(s1, messages(s1, s2, 1, 3))
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s2), 3)), [3])
      const stats = yield* net.network.stats()
      assert.deepStrictEqual(stats, { sent: 3, delivered: 1, dropped: 0, undeliverable: 2 })
    })
  )

  it.scoped("closing a sender's scope cancels its delayed messages; later sends do nothing", () =>
    Effect.gen(function* () {
      const network = yield* MemoryNetwork.make({ seed: 1 })
      const inbox = yield* Queue.unbounded<RaftMessage>()
      yield* network.register(s2, (m) => Queue.offer(inbox, m))
      yield* network.addFilters(delay("1 second"))
      const scope = yield* Scope.make()
      const transport = Context.get(yield* Layer.buildWithScope(layerTransportMemory(network, s1), scope), Transport)
      yield* transport.send(messages(s1, s2, 1))
      yield* Scope.close(scope, Exit.void)
      // the delay filter is what is under test: the test drives its clock past the delay
      yield* TestClock.adjust("2 seconds")
      yield* transport.send(messages(s1, s2, 1, 2))
      // an absence: let every runnable fiber run (no time passes), then nothing may have arrived
      yield* settle
      assert.strictEqual(yield* Queue.size(inbox), 0)
      assert.strictEqual((yield* network.stats()).sent, 1)
    })
  )
})

describe("memory transport: filters", () => {
  /** Sends 2000 messages under `dropRate(0.3)` and returns the indexes that arrived. */
  const survivors = (seed: number) =>
    Effect.scoped(
      Effect.gen(function* () {
        const net = yield* cluster(seed)
        yield* net.network.addFilters(dropRate(0.3))
        yield* net.send(s1, messages(s1, s2, 2000))
        yield* net.network.clearFilters()
        yield* net.send(s1, messages(s1, s2, 1, 9999))
        const got = indexes(yield* receiveUntil(net.inbox(s2), 9999)).slice(0, -1)
        assert.strictEqual((yield* net.network.stats()).dropped, 2000 - got.length)
        return got
      })
    )

  it.effect("dropRate drops about p of the messages, the same ones for the same seed", () =>
    Effect.gen(function* () {
      const a = yield* survivors(42)
      const b = yield* survivors(42)
      const c = yield* survivors(43)
      assert.deepStrictEqual(a, b)
      assert.notDeepEqual(a, c)
      const dropped = 1 - a.length / 2000
      assert.isTrue(dropped > 0.25 && dropped < 0.35, `dropped ${dropped}`)
    })
  )

  it.scoped("partition drops messages across the two sides only, both ways", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      yield* net.network.addFilters(partition([s1], [s2, s3]))
      yield* net.send(s1, [raftMessage({ from: s1, to: s2, index: 1 })])
      yield* net.send(s2, [raftMessage({ from: s2, to: s1, index: 2 }), raftMessage({ from: s2, to: s3, index: 3 })])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s3), 3)), [3])
      yield* net.network.clearFilters()
      yield* net.send(s1, [raftMessage({ from: s1, to: s2, index: 10 })])
      yield* net.send(s2, [raftMessage({ from: s2, to: s1, index: 20 })])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s2), 10)), [10])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s1), 20)), [20])
    })
  )

  it.scoped("isolate cuts one store off from all others", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      yield* net.network.addFilters(isolate(s3))
      yield* net.send(s1, [raftMessage({ from: s1, to: s3, index: 1 }), raftMessage({ from: s1, to: s2, index: 2 })])
      yield* net.send(s3, [raftMessage({ from: s3, to: s1, index: 3 })])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s2), 2)), [2])
      yield* net.network.clearFilters()
      yield* net.send(s1, [raftMessage({ from: s1, to: s3, index: 10 })])
      yield* net.send(s3, [raftMessage({ from: s3, to: s1, index: 20 })])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s3), 10)), [10])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s1), 20)), [20])
    })
  )

  it.scoped("ignore drops one message type", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      yield* net.network.addFilters(ignore("MsgHeartbeat"))
      yield* net.send(s1, [
        raftMessage({ from: s1, to: s2, index: 1, msgType: "MsgHeartbeat" }),
        raftMessage({ from: s1, to: s2, index: 2, msgType: "MsgAppend" }),
        raftMessage({ from: s1, to: s2, index: 3, msgType: "MsgHeartbeat" }),
        raftMessage({ from: s1, to: s2, index: 4, msgType: "MsgRequestVote" })
      ])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s2), 4)), [2, 4])
      assert.strictEqual((yield* net.network.stats()).dropped, 2)
    })
  )

  it.scoped("a hook sees every message and may drop or duplicate it", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      const seen: Array<number> = []
      yield* net.network.addFilters(
        hook((d) => {
          seen.push(d.message.message.index)
          if (d.message.message.index === 2) return false
          if (d.message.message.index === 3) return [d, d]
          return undefined
        })
      )
      yield* net.send(s1, messages(s1, s2, 4))
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s2), 4)), [1, 3, 3, 4])
      assert.deepStrictEqual(seen, [1, 2, 3, 4])
      assert.strictEqual((yield* net.network.stats()).delivered, 4)
    })
  )

  it.scoped("delay holds messages until TestClock passes it; other links are not delayed", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      yield* net.network.addFilters(delay("1 second", { to: s2 }))
      yield* net.send(s1, [raftMessage({ from: s1, to: s2, index: 1 }), raftMessage({ from: s1, to: s3, index: 2 })])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s3), 2)), [2])
      // the delay filter under test, on the test's clock: just before the delay nothing has arrived (an
      // absence, so every runnable fiber runs first), and the last millisecond releases the message
      yield* settle
      yield* TestClock.adjust("999 millis")
      yield* settle
      assert.strictEqual(yield* Queue.size(net.inbox(s2)), 0)
      const waiting = yield* Effect.fork(Queue.take(net.inbox(s2)))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* Fiber.join(waiting)).message.index, 1)
    })
  )

  it.scoped("filters compose left to right", () =>
    Effect.gen(function* () {
      const net = yield* cluster()
      yield* net.network.addFilters(ignore("MsgHeartbeat"), partition([s1], [s3]))
      yield* net.send(s1, [
        raftMessage({ from: s1, to: s2, index: 1, msgType: "MsgHeartbeat" }),
        raftMessage({ from: s1, to: s3, index: 2 }),
        raftMessage({ from: s1, to: s2, index: 3 })
      ])
      assert.deepStrictEqual(indexes(yield* receiveUntil(net.inbox(s2), 3)), [3])
      assert.strictEqual((yield* net.network.stats()).dropped, 2)
    })
  )

  it.effect("without a seed, the drops follow Effect's Random service", () =>
    Effect.gen(function* () {
      const decisions = () =>
        Effect.gen(function* () {
          const network = yield* MemoryNetwork.make()
          yield* network.addFilters(dropRate(0.5))
          return messages(s1, s2, 200).map((m) => network.route(s1, m).length)
        }).pipe(Effect.withRandom(Random.make(7)))
      // a fresh `Random.make(7)` per run: one instance keeps its position in the sequence
      const a = yield* decisions()
      assert.deepStrictEqual(a, yield* decisions())
      assert.isTrue(a.includes(0) && a.includes(1))
    })
  )
})
