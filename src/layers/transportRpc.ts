/**
 * The live Transport: Raft messages to other stores (TinyKV `ServerTransport` + `RaftClient` +
 * `snap_runner.go`).
 *
 * One link per destination store, made on the first message to it (`raftLink.ts`): the sender writes each
 * send as one-way `Raft` requests (`src/protocol/oneWay.ts`) straight to the link's socket, cut at
 * `maxBatchBytes`; a link that is connecting keeps up to `queueCapacity` messages for its socket, and one
 * that failed drops what is sent to it while it backs off. Every step that waits on the network has a
 * deadline: resolving and connecting (`connectTimeout`), a socket that stopped draining (`batchTimeout`: a
 * peer that stopped reading), each snapshot piece (`sendTimeout`).
 *
 * A message carrying a snapshot goes by `Snapshot` pieces instead (`transportSnapshot.ts`), over a
 * connection of its own so heartbeats are not stuck behind a large transfer: snapshots may overtake or trail
 * the messages around them, which Raft tolerates. Closing the layer's scope closes every socket and
 * interrupts every connection attempt and transfer.
 */
import { Duration, Effect, ExecutionStrategy, Layer, Scope } from "effect"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import type { StoreId } from "../protocol/ids.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { type ResolveStore, Transport } from "../services/Transport.js"
import { RaftLink, type RaftLinkEnv } from "./raftLink.js"

export interface TransportRpcOptions {
  readonly resolve: ResolveStore
  /** Dial other stores with mutual TLS, presenting these credentials. */
  readonly tls?: TlsCredentials | undefined
  /** Messages waiting per destination store; more are dropped. */
  readonly queueCapacity?: number
  /** Kept for compatibility: a send is written as it comes, cut by `maxBatchBytes` only. */
  readonly maxBatchMessages?: number
  /** A `Raft` call stops growing at this many (estimated) bytes, far below the 16 MiB frame limit. */
  readonly maxBatchBytes?: number
  /** Bytes waiting in a link's socket beyond which its sends are dropped (the peer reads too slowly). */
  readonly maxBufferedBytes?: number
  /** Size of one `Snapshot` piece (TinyKV `snapChunkLen`). */
  readonly snapshotPieceBytes?: number
  /** Snapshot transfers waiting or running per destination; more are dropped. */
  readonly maxPendingSnapshots?: number
  /** Deadline for resolving the address, and for connecting and the proving call. */
  readonly connectTimeout?: Duration.DurationInput
  /** Deadline for one awaited call (one snapshot piece). */
  readonly sendTimeout?: Duration.DurationInput
  /**
   * How long a link's socket may keep bytes it cannot hand to the kernel. That only lasts when the peer
   * stopped reading (a paused process): the link then gives the connection up rather than hold every later
   * message for the peer behind it.
   */
  readonly batchTimeout?: Duration.DurationInput
  /** Deadline for closing a snapshot transfer's connection (its socket may be stuck); the rest runs in the background. */
  readonly closeTimeout?: Duration.DurationInput
  /** First pause after a failure; it doubles per consecutive failure up to `backoffMax`. */
  readonly backoffInitial?: Duration.DurationInput
  readonly backoffMax?: Duration.DurationInput
}

const defaults = {
  queueCapacity: 4096,
  maxBatchMessages: 256,
  maxBatchBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  snapshotPieceBytes: 1024 * 1024,
  maxPendingSnapshots: 4,
  connectTimeout: "3 seconds",
  sendTimeout: "10 seconds",
  batchTimeout: "2 seconds",
  closeTimeout: "1 second",
  backoffInitial: "100 millis",
  backoffMax: "3 seconds"
} satisfies Omit<Required<TransportRpcOptions>, "resolve" | "tls">

/** The Transport over RPC; `resolve` maps a store to `HOST:PORT` (the scheduler's answer, cached by the caller). */
export const layerTransportRpc = (options: TransportRpcOptions): Layer.Layer<Transport> =>
  Layer.scoped(
    Transport,
    Effect.gen(function* () {
      const config = { ...defaults, ...options }
      const clock = yield* Effect.clock
      // closing: the links first (no new connections; their sockets destroyed), then the scope of their
      // connection attempts and snapshot transfers
      const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
      const env: RaftLinkEnv = {
        config: {
          resolve: config.resolve,
          tls: config.tls,
          queueCapacity: config.queueCapacity,
          maxBatchBytes: config.maxBatchBytes,
          maxBufferedBytes: config.maxBufferedBytes,
          snapshotPieceBytes: config.snapshotPieceBytes,
          maxPendingSnapshots: config.maxPendingSnapshots,
          connectTimeout: Duration.decode(config.connectTimeout),
          sendTimeout: Duration.decode(config.sendTimeout),
          closeTimeout: Duration.decode(config.closeTimeout),
          batchTimeoutMs: Duration.toMillis(config.batchTimeout),
          backoffInitialMs: Duration.toMillis(config.backoffInitial),
          backoffMaxMs: Duration.toMillis(config.backoffMax)
        },
        scope,
        runtime: yield* Effect.runtime<never>(),
        nowMs: () => clock.unsafeCurrentTimeMillis()
      }
      const links = new Map<StoreId, RaftLink>()
      let closed = false
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          closed = true
          for (const link of links.values()) link.close()
        })
      )
      const linkTo = (to: StoreId): RaftLink => {
        let link = links.get(to)
        if (link === undefined) {
          link = new RaftLink(to, env)
          links.set(to, link)
        }
        return link
      }

      // --- Send: group by destination, keep each destination's order ---
      const send = (messages: ReadonlyArray<RaftMessage>): Effect.Effect<void> =>
        Effect.suspend(() => {
          if (closed || messages.length === 0) return Effect.void
          const first = messages[0]!.toPeer.storeId
          let single = true
          for (const m of messages) if (m.toPeer.storeId !== first) single = false
          if (single) return linkTo(first).send(messages)
          const byStore = new Map<StoreId, Array<RaftMessage>>()
          for (const m of messages) {
            const to = m.toPeer.storeId
            const list = byStore.get(to)
            if (list === undefined) byStore.set(to, [m])
            else list.push(m)
          }
          return Effect.forEach(byStore, ([to, list]) => linkTo(to).send(list), { discard: true })
        })

      return Transport.of({ send })
    })
  )
