/**
 * The `Transport` conformance suite: what every Transport layer promises (see `services/Transport.ts`).
 *
 * - `send` never fails and never waits for delivery; a message arrives equal to what was sent.
 * - Messages from one sender to one store arrive in the order they were sent, across calls and within
 *   one call that mixes destinations.
 * - A store that is not reachable loses what is sent to it without holding up other destinations, and
 *   receives what is sent once it is reachable.
 * - A message carrying a snapshot (several MiB) arrives whole.
 * - Closing the transport's scope ends all of its fibers, and later sends deliver nothing.
 *
 * The suite talks to the layer through a `TransportNetwork` the caller provides: how a store listens
 * and how a sender's Transport is built. Tests run on the live clock (real sockets may be involved).
 */
import { Duration, Effect, Exit, Fiber, Queue, Scope, Supervisor } from "effect"
import { peerId, regionId, type StoreId, storeId } from "../../protocol/ids.js"
import type { RaftMessage } from "../../protocol/raftServer.js"
import type { Deliver, Transport } from "../../services/Transport.js"
import { eventually } from "../eventually.js"
import { type Assert, vitest } from "./vitest.js"

export interface TransportNetwork {
  /** Makes `storeId` reachable for the life of the current scope: messages addressed to it go to `deliver`. */
  readonly listen: (storeId: StoreId, deliver: Deliver) => Effect.Effect<void, unknown, Scope.Scope>
  /** The Transport of store `from`, for the life of the current scope. */
  readonly transport: (from: StoreId) => Effect.Effect<Transport["Type"], unknown, Scope.Scope>
}

export interface TransportConformanceOptions {
  /** Per-test timeout in ms (default 30 000). */
  readonly timeout?: number
}

const s1 = storeId(1)
const s2 = storeId(2)
const s3 = storeId(3)
/** Never listens in any test. */
const nowhere = storeId(99)

/** A MsgAppend (or MsgSnapshot with `snapshotData`) from `from` to `to`, identified by `message.index`. */
const raftMessage = (
  from: StoreId,
  to: StoreId,
  index: number,
  extra: { entryData?: Uint8Array; snapshotData?: Uint8Array } = {}
): RaftMessage => ({
  regionId: regionId(7),
  fromPeer: { id: peerId(from * 10), storeId: from },
  toPeer: { id: peerId(to * 10), storeId: to },
  message: {
    msgType: extra.snapshotData === undefined ? "MsgAppend" : "MsgSnapshot",
    to: to * 10,
    from: from * 10,
    term: 3,
    logTerm: 2,
    index,
    entries:
      extra.entryData === undefined
        ? []
        : [{ entryType: "EntryNormal", term: 3, index: index + 1, data: extra.entryData }],
    commit: 1,
    ...(extra.snapshotData === undefined
      ? {}
      : {
          snapshot: {
            data: extra.snapshotData,
            metadata: { confState: { nodes: [10, 20, 30] }, index, term: 2 }
          }
        }),
    reject: false
  },
  regionEpoch: { confVer: 1, version: 1 },
  isTombstone: false
})

const run = (from: StoreId, to: StoreId, n: number, first: number) =>
  Array.from({ length: n }, (_, i) => raftMessage(from, to, first + i))

const range = (n: number, first: number) => Array.from({ length: n }, (_, i) => first + i)

const indexes = (ms: ReadonlyArray<RaftMessage>) => ms.map((m) => m.message.index)

/** Bytes that differ from position to position, so a misplaced piece shows. */
const patternBytes = (n: number): Uint8Array => {
  const out = new Uint8Array(n)
  let x = 0x9e3779b9
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/** Byte arrays as number arrays (a Buffer then equals a Uint8Array), for deep comparison. */
const plain = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) }
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}

/** Takes exactly `n` messages from `inbox`, failing the test with what arrived if they do not within `timeout`. */
const takeN = (inbox: Queue.Queue<RaftMessage>, n: number, timeout: Duration.DurationInput = "20 seconds") =>
  Effect.gen(function* () {
    const out: Array<RaftMessage> = []
    return yield* Effect.gen(function* () {
      while (out.length < n) out.push(...(yield* Queue.takeBetween(inbox, 1, n - out.length)))
      return out
    }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new Error(`expected ${n} messages within ${Duration.format(timeout)}, got ${out.length}: ${indexes(out)}`)
      })
    )
  })

/** Runs the Transport suite on the network `makeNetwork` builds (one per test, in the test's scope). */
export const transportConformance = (
  name: string,
  makeNetwork: Effect.Effect<TransportNetwork, unknown, Scope.Scope>,
  options: TransportConformanceOptions = {}
) => {
  const { describe, it } = vitest()
  const assert: Assert = vitest().assert
  return describe(`Transport conformance: ${name}`, () => {
    const timeout = options.timeout ?? 30_000

    /** A network with the given stores listening into inboxes. */
    const setup = (listening: ReadonlyArray<StoreId>) =>
      Effect.gen(function* () {
        const network = yield* makeNetwork
        const inboxes = new Map<StoreId, Queue.Queue<RaftMessage>>()
        for (const s of listening) {
          const inbox = yield* Queue.unbounded<RaftMessage>()
          inboxes.set(s, inbox)
          yield* network.listen(s, (m) => Queue.offer(inbox, m))
        }
        return { network, inbox: (s: StoreId) => inboxes.get(s)! }
      })

    it.scopedLive(
      "a message arrives equal to what was sent (entries, snapshot, keys)",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2])
          const transport = yield* network.transport(s1)
          const sent: RaftMessage = {
            ...raftMessage(s1, s2, 5, { entryData: patternBytes(300) }),
            startKey: new Uint8Array([1, 2, 3]),
            endKey: new Uint8Array([])
          }
          yield* transport.send([sent])
          const [got] = yield* takeN(inbox(s2), 1)
          assert.deepStrictEqual(plain(got), plain(sent))
        }),
      timeout
    )

    it.scopedLive(
      "messages from one sender to one store keep their order across many sends",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2])
          const transport = yield* network.transport(s1)
          for (let i = 0; i < 100; i++) yield* transport.send(run(s1, s2, 10, 1 + i * 10))
          assert.deepStrictEqual(indexes(yield* takeN(inbox(s2), 1000)), range(1000, 1))
        }),
      timeout
    )

    it.scopedLive(
      "one send with several destinations: each store gets its own messages, in order",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2, s3])
          const transport = yield* network.transport(s1)
          for (let i = 0; i < 10; i++) {
            const batch: Array<RaftMessage> = []
            for (let j = 0; j < 10; j++) {
              const n = i * 10 + j
              batch.push(raftMessage(s1, s2, 1 + n), raftMessage(s1, s3, 1001 + n))
            }
            yield* transport.send(batch)
          }
          assert.deepStrictEqual(indexes(yield* takeN(inbox(s2), 100)), range(100, 1))
          assert.deepStrictEqual(indexes(yield* takeN(inbox(s3), 100)), range(100, 1001))
        }),
      timeout
    )

    it.scopedLive(
      "two senders to one store: each sender's messages stay in order",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2])
          const a = yield* network.transport(s1)
          const b = yield* network.transport(s3)
          for (let i = 0; i < 10; i++) {
            yield* a.send(run(s1, s2, 20, 1 + i * 20))
            yield* b.send(run(s3, s2, 20, 1001 + i * 20))
          }
          const got = yield* takeN(inbox(s2), 400)
          const from = (s: StoreId) => indexes(got.filter((m) => m.fromPeer.storeId === s))
          assert.deepStrictEqual(from(s1), range(200, 1))
          assert.deepStrictEqual(from(s3), range(200, 1001))
        }),
      timeout
    )

    it.scopedLive(
      "an unknown store: send succeeds, its messages are lost, other destinations are not held up",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2])
          const transport = yield* network.transport(s1)
          for (let i = 0; i < 10; i++) {
            const sent = yield* Effect.exit(
              transport.send([...run(s1, nowhere, 5, 1000 + i * 5), ...run(s1, s2, 5, 1 + i * 5)])
            )
            assert.isTrue(Exit.isSuccess(sent), "send never fails")
          }
          assert.deepStrictEqual(indexes(yield* takeN(inbox(s2), 50)), range(50, 1))
        }),
      timeout
    )

    it.scopedLive(
      "a store that starts listening later receives what is sent after it is up",
      () =>
        Effect.gen(function* () {
          const { network } = yield* setup([])
          const transport = yield* network.transport(s1)
          yield* transport.send(run(s1, s2, 5, 1))
          const inbox = yield* Queue.unbounded<RaftMessage>()
          yield* network.listen(s2, (m) => Queue.offer(inbox, m))
          // a transport may back off after failing to reach the store: keep sending until one arrives
          let next = 100
          yield* eventually(
            Effect.gen(function* () {
              yield* transport.send(run(s1, s2, 1, next++))
              return (yield* Queue.size(inbox)) > 0
            }),
            { what: "a message to arrive once the store listens", timeout: "15 seconds", interval: "20 millis" }
          )
          // what was sent before it listened may be lost or, if still queued, delivered: best effort either way
          const arrived = indexes(yield* Queue.takeAll(inbox).pipe(Effect.map((c) => Array.from(c))))
          assert.isTrue(
            arrived.some((i) => i >= 100),
            `a message sent after listening arrived: ${arrived}`
          )
        }),
      timeout
    )

    it.scopedLive(
      "a snapshot of several MiB arrives whole, beside ordinary messages",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2])
          const transport = yield* network.transport(s1)
          const data = patternBytes(3 * 1024 * 1024 + 17)
          const snapshot = raftMessage(s1, s2, 500, { snapshotData: data })
          yield* transport.send([raftMessage(s1, s2, 1), snapshot, raftMessage(s1, s2, 2)])
          const got = yield* takeN(inbox(s2), 3)
          // a snapshot may overtake or trail the messages around it (Raft tolerates it)
          assert.sameMembers(indexes(got), [1, 2, 500])
          assert.deepStrictEqual(indexes(got.filter((m) => m.message.index !== 500)), [1, 2])
          const arrived = got.find((m) => m.message.index === 500)!
          assert.strictEqual(arrived.message.msgType, "MsgSnapshot")
          assert.deepStrictEqual(arrived.message.snapshot!.metadata, snapshot.message.snapshot!.metadata)
          assert.isTrue(bytesEqual(arrived.message.snapshot!.data, data), "snapshot data intact")
        }),
      timeout
    )

    it.scopedLive(
      "closing the transport's scope ends its fibers; later sends deliver nothing",
      () =>
        Effect.gen(function* () {
          const { network, inbox } = yield* setup([s2, s3])
          const supervisor = yield* Supervisor.track
          const scope = yield* Scope.make()
          const transport = yield* Effect.gen(function* () {
            const t = yield* network.transport(s1).pipe(Scope.extend(scope))
            yield* t.send([...run(s1, s2, 10, 1), ...run(s1, s3, 10, 1), ...run(s1, nowhere, 10, 1)])
            yield* t.send([raftMessage(s1, s2, 11, { snapshotData: patternBytes(1 << 20) })])
            yield* takeN(inbox(s2), 11)
            yield* takeN(inbox(s3), 10)
            return t
          }).pipe(Effect.supervised(supervisor))
          yield* Scope.close(scope, Exit.void)
          yield* eventually(
            Effect.map(supervisor.value, (fibers) => fibers.length === 0),
            { what: "the transport's fibers to end" }
          )
          yield* transport.send(run(s1, s2, 5, 100)).pipe(Effect.supervised(supervisor))
          assert.deepStrictEqual((yield* supervisor.value).map(Fiber.id), [], "a send after close starts nothing")
          // barrier: a fresh transport's message arrives; nothing of the closed one came before it
          const fresh = yield* network.transport(s1)
          yield* fresh.send([raftMessage(s1, s2, 999)])
          assert.deepStrictEqual(indexes(yield* takeN(inbox(s2), 1)), [999])
          assert.strictEqual(yield* Queue.size(inbox(s2)), 0)
        }),
      timeout
    )
  })
}
