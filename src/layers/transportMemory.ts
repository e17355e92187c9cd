/**
 * The in-process Transport: a `MemoryNetwork` shared by every store of a test cluster, and one
 * `layerTransportMemory(network, storeId)` per store (TinyKV `MockTransport`, etcd `rafttest` network).
 *
 * Every message crosses the same codec as on the wire — `RaftMessage` Schema encode, msgpack pack and
 * unpack (`useRecords: true`, as @effect/rpc), Schema decode — so a serialization bug surfaces in unit
 * tests as a defect in the sender's `send`, and the receiver gets a copy that shares nothing with the
 * sender's object. Then the network's filters decide drops, duplicates and delays.
 *
 * Delivery is asynchronous: `send` only enqueues, and one fiber per (sender, destination) link, forked in
 * the sender layer's scope, calls the destination's `Deliver` — never on the sender's fiber. So messages
 * keep their order per link unless a `delay` filter moves them out of the queue. The destination is
 * looked up when the message is delivered: a store unregistered meanwhile (stopped) loses it.
 */
import { Effect, Layer, Queue, Random, Schema } from "effect"
import { Packr, Unpackr } from "msgpackr"
import type { StoreId } from "../protocol/ids.js"
import { RaftMessage } from "../protocol/raftServer.js"
import { mulberry32 } from "../raft/rng.js"
import { type Deliver, Transport } from "../services/Transport.js"
import { takeBatch } from "./transportBatch.js"
import { applyFilters, type Delivery, type Filter } from "./transportFilters.js"

// --- Codec: the wire path without the wire ---

const packr = new Packr({ useRecords: true })
const unpackr = new Unpackr({ useRecords: true })
const encode = Schema.encodeSync(RaftMessage)
const decode = Schema.decodeUnknownSync(RaftMessage)

/** `message` after a trip through the wire codec; throws when the message does not survive it. */
export const wireCopy = (message: RaftMessage): RaftMessage => {
  try {
    return decode(unpackr.unpack(packr.pack(encode(message))))
  } catch (e) {
    throw new Error(`RaftMessage does not survive the wire codec: ${e instanceof Error ? e.message : String(e)}`)
  }
}

// --- The network: who is registered, which faults are on ---

export interface MemoryNetworkOptions {
  /** Seeds the drop decisions; without one the seed is drawn from Effect's `Random` service. */
  readonly seed?: number
}

export interface MemoryNetworkStats {
  /** Messages handed to `send`, before filters. */
  readonly sent: number
  /** Messages handed to a registered store's `Deliver` (duplicates count twice). */
  readonly delivered: number
  /** Messages a filter dropped. */
  readonly dropped: number
  /** Messages whose destination was not registered when they arrived. */
  readonly undeliverable: number
}

/**
 * The in-process network of one test cluster. State is plain fields mutated inside `Effect.sync`, which is
 * safe because fibers of one runtime never run in parallel.
 */
export class MemoryNetwork {
  private readonly stores = new Map<StoreId, Deliver>()
  private filters: ReadonlyArray<Filter> = []
  private counters = { sent: 0, delivered: 0, dropped: 0, undeliverable: 0 }

  private constructor(private readonly random: () => number) {}

  static make(options: MemoryNetworkOptions = {}): Effect.Effect<MemoryNetwork> {
    const seed = options.seed === undefined ? Random.nextInt : Effect.succeed(options.seed)
    return Effect.map(seed, (s) => new MemoryNetwork(mulberry32(s)))
  }

  /** Makes `storeId` reachable: messages to it go to `deliver` (its Router's `sendRaftMessage`). */
  register(storeId: StoreId, deliver: Deliver): Effect.Effect<void> {
    return Effect.sync(() => void this.stores.set(storeId, deliver))
  }

  /** Makes `storeId` unreachable (stopped): messages to it, including those in flight, are dropped. */
  unregister(storeId: StoreId): Effect.Effect<void> {
    return Effect.sync(() => void this.stores.delete(storeId))
  }

  /** Adds faults after the ones already on. */
  addFilters(...filters: ReadonlyArray<Filter>): Effect.Effect<void> {
    return Effect.sync(() => void (this.filters = [...this.filters, ...filters]))
  }

  /** Removes every fault (etcd `recover`, TinyKV `ClearFilters`). */
  clearFilters(): Effect.Effect<void> {
    return Effect.sync(() => void (this.filters = []))
  }

  /** Counters since the network was made. */
  stats(): Effect.Effect<MemoryNetworkStats> {
    return Effect.sync(() => ({ ...this.counters }))
  }

  /**
   * For `layerTransportMemory`: the codec copy of `message` run through the filters. Synchronous, so drop
   * decisions follow the order of `send` calls exactly; throws when the message fails the codec.
   */
  route(from: StoreId, message: RaftMessage): ReadonlyArray<Delivery> {
    this.counters.sent++
    const copy = wireCopy(message)
    const out = applyFilters(
      this.filters,
      { from, to: copy.toPeer.storeId, message: copy, delayMillis: 0 },
      this.random
    )
    if (out.length === 0) this.counters.dropped++
    return out
  }

  /** For `layerTransportMemory`: hands `message` to the store registered as `to` now, if any. */
  deliver(to: StoreId, message: RaftMessage): Effect.Effect<void> {
    return Effect.suspend(() => {
      const deliver = this.stores.get(to)
      if (deliver === undefined) {
        this.counters.undeliverable++
        return Effect.void
      }
      this.counters.delivered++
      // NB: a receiver's defect is its own bug; log it and keep the link alive for the other messages
      return Effect.catchAllDefect(deliver(message), (defect) =>
        Effect.logError("memory transport: Deliver died").pipe(Effect.annotateLogs({ storeId: to, defect }))
      )
    })
  }
}

// --- The per-store layer: one FIFO queue and one delivery fiber per destination ---

/** The Transport of store `from` on `network`. Closing its scope stops its links and pending delays. */
export const layerTransportMemory = (network: MemoryNetwork, from: StoreId): Layer.Layer<Transport> =>
  Layer.scoped(
    Transport,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const links = new Map<StoreId, Queue.Queue<RaftMessage>>()
      let closed = false
      yield* Effect.addFinalizer(() => Effect.sync(() => void (closed = true)))

      const deliverAll = (to: StoreId, batch: Iterable<RaftMessage>) =>
        Effect.forEach(batch, (m) => network.deliver(to, m), { discard: true })

      const linkTo = (to: StoreId): Effect.Effect<Queue.Queue<RaftMessage>> =>
        Effect.suspend(() => {
          const existing = links.get(to)
          if (existing !== undefined) return Effect.succeed(existing)
          return Effect.flatMap(Queue.unbounded<RaftMessage>(), (queue) => {
            // NB: re-check: another fiber of this store may have made the link while the queue was made
            const raced = links.get(to)
            if (raced !== undefined) return Effect.succeed(raced)
            links.set(to, queue)
            const loop = takeBatch(queue, 256).pipe(
              Effect.flatMap((batch) => deliverAll(to, batch)),
              Effect.forever
            )
            return Effect.as(Effect.forkIn(loop, scope), queue)
          })
        })

      const send = (messages: ReadonlyArray<RaftMessage>) =>
        Effect.suspend(() => {
          if (closed) return Effect.void
          const now = new Map<StoreId, Array<RaftMessage>>()
          const later: Array<Delivery> = []
          for (const m of messages) {
            for (const d of network.route(from, m)) {
              if (d.delayMillis > 0) later.push(d)
              else {
                const batch = now.get(d.to)
                if (batch === undefined) now.set(d.to, [d.message])
                else batch.push(d.message)
              }
            }
          }
          return Effect.zipRight(
            Effect.forEach(now, ([to, batch]) => Effect.flatMap(linkTo(to), (q) => Queue.offerAll(q, batch)), {
              discard: true
            }),
            Effect.forEach(
              later,
              (d) => Effect.forkIn(Effect.delay(network.deliver(d.to, d.message), d.delayMillis), scope),
              { discard: true }
            )
          )
        })

      return Transport.of({ send })
    })
  )
