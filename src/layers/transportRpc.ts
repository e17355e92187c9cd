/**
 * The live Transport: Raft messages to other stores over `TinyKvRpcs` (TinyKV `ServerTransport` +
 * `RaftClient` + `snap_runner.go`).
 *
 * One link per destination store, made on the first message to it: a bounded queue (full ⇒ drop; Raft
 * tolerates loss) and one fiber that drains it (`takeBatch`: everything queued, up to 256) and sends it as ONE
 * one-way `Raft({ messages })` request (`src/protocol/oneWay.ts`) — fire-and-forget; batching is 2–4× the throughput of one
 * call per message. The link's connection is opened lazily: resolve the address, connect, and prove the
 * connection with an empty awaited `Raft` call (a refused connection fails that call at once, while a
 * one-way send would wait for the socket to open). Any failure closes the connection and pauses the link
 * (a backoff that grows with consecutive failures); what was queued meanwhile is dropped, and the next batch
 * after it re-resolves and reconnects.
 *
 * Every step that waits on the network has a deadline, so a link can stall on a dead or paused peer for a
 * bounded while only: resolving and connecting (`connectTimeout`), handing a batch to the socket
 * (`batchTimeout`: a peer that stopped reading, or a socket being replaced), closing a given-up connection
 * (`closeTimeout`, the rest of the close runs in the background), each snapshot piece (`sendTimeout`).
 *
 * A message carrying a snapshot goes by `Snapshot` pieces instead (`transportSnapshot.ts`), on a fiber of
 * its own so heartbeats are not stuck behind a large transfer: snapshots may overtake or trail the
 * messages around them, which Raft tolerates. Closing the layer's scope closes every connection, link
 * fiber and transfer.
 */
import { Duration, Effect, ExecutionStrategy, Exit, Layer, Queue, Schedule, Scope } from "effect"
import { isValidAddress } from "../rpc/address.js"
import { connectStore, type PeerConnection } from "../rpc/storeConnection.js"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import type { StoreId } from "../protocol/ids.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { type ResolveStore, Transport } from "../services/Transport.js"
import { batchesByBytes, fitsFrame, takeBatch } from "./transportBatch.js"
import { hasSnapshot, sendSnapshot } from "./transportSnapshot.js"

export interface TransportRpcOptions {
  readonly resolve: ResolveStore
  /** Dial other stores with mutual TLS, presenting these credentials. */
  readonly tls?: TlsCredentials | undefined
  /** Messages waiting per destination store; more are dropped. */
  readonly queueCapacity?: number
  /** Most messages in one `Raft` call. */
  readonly maxBatchMessages?: number
  /** A `Raft` call stops growing at this many (estimated) bytes, far below the 16 MiB frame limit. */
  readonly maxBatchBytes?: number
  /** Size of one `Snapshot` piece (TinyKV `snapChunkLen`). */
  readonly snapshotPieceBytes?: number
  /** Snapshot transfers waiting or running per destination; more are dropped. */
  readonly maxPendingSnapshots?: number
  /** Deadline for resolving the address, and for connecting and the proving call. */
  readonly connectTimeout?: Duration.DurationInput
  /** Deadline for one awaited call (one snapshot piece). */
  readonly sendTimeout?: Duration.DurationInput
  /**
   * Deadline for handing one batch to the socket. A one-way batch is done once its bytes are written, so
   * it only takes long when the socket is gone or the peer stopped reading (a paused process): the link then
   * gives the connection up rather than hold every later message for the peer behind it.
   */
  readonly batchTimeout?: Duration.DurationInput
  /** Deadline for closing a connection that was given up (its socket may be stuck). */
  readonly closeTimeout?: Duration.DurationInput
  /** First pause after a failure; it doubles per consecutive failure up to `backoffMax`. */
  readonly backoffInitial?: Duration.DurationInput
  readonly backoffMax?: Duration.DurationInput
}

const defaults = {
  queueCapacity: 4096,
  maxBatchMessages: 256,
  maxBatchBytes: 4 * 1024 * 1024,
  snapshotPieceBytes: 1024 * 1024,
  maxPendingSnapshots: 4,
  connectTimeout: "3 seconds",
  sendTimeout: "10 seconds",
  batchTimeout: "2 seconds",
  closeTimeout: "1 second",
  backoffInitial: "100 millis",
  backoffMax: "3 seconds"
} satisfies Omit<Required<TransportRpcOptions>, "resolve" | "tls">

interface Connection {
  readonly connection: PeerConnection
  /** Holds the socket and the snapshot transfers on it; a child of the links scope. */
  readonly scope: Scope.CloseableScope
}

/** The Transport over RPC; `resolve` maps a store to `HOST:PORT` (the scheduler's answer, cached by the caller). */
export const layerTransportRpc = (options: TransportRpcOptions): Layer.Layer<Transport> =>
  Layer.scoped(
    Transport,
    Effect.gen(function* () {
      const config = { ...defaults, ...options }
      const connectTimeout = Duration.decode(config.connectTimeout)
      const batchTimeout = Duration.decode(config.batchTimeout)
      // NB: disconnected: a close that outlives its deadline finishes in the background, the link moves on
      const closeConnection = (scope: Scope.CloseableScope) =>
        Scope.close(scope, Exit.void).pipe(Effect.disconnect, Effect.timeout(config.closeTimeout), Effect.ignore)
      const backoff = Schedule.exponential(config.backoffInitial, 2).pipe(
        Schedule.union(Schedule.spaced(config.backoffMax))
      )
      // --- Shutdown order: `closed` first (no new links or connections), then the links scope: its
      // connections (children, made later) close, then the link fibers are interrupted ---
      const linksScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
      let closed = false
      yield* Effect.addFinalizer(() => Effect.sync(() => void (closed = true)))

      // --- Connections: owned by their link's fiber, children of the links scope (closed with it) ---
      const open = (to: StoreId): Effect.Effect<Connection | undefined> =>
        Effect.gen(function* () {
          if (closed) return undefined
          // NB: the resolver may ask the scheduler, which may be unreachable too
          const address = yield* config.resolve(to).pipe(
            Effect.timeout(connectTimeout),
            Effect.orElseSucceed(() => undefined)
          )
          if (address === undefined || !isValidAddress(address)) {
            yield* Effect.logDebug("transport: no address for store")
            return undefined
          }
          const scope = yield* Scope.fork(linksScope, ExecutionStrategy.sequential)
          const proved = yield* connectStore(address, { timeout: config.sendTimeout, tls: config.tls }).pipe(
            Scope.extend(scope),
            // a typed answer (even a refusal) proves the connection; only transport failures do not
            Effect.flatMap((connection) =>
              connection
                .call("Raft", (c) => c.Raft({ messages: [] }))
                .pipe(
                  Effect.as(connection),
                  Effect.catchIf(
                    (e) => e._tag !== "StoreUnavailable" && e._tag !== "RequestTimeout",
                    () => Effect.succeed(connection)
                  )
                )
            ),
            Effect.timeoutFail({ duration: connectTimeout, onTimeout: () => "connect timeout" }),
            Effect.either
          )
          if (proved._tag === "Left") {
            yield* Effect.logDebug("transport: cannot connect").pipe(
              Effect.annotateLogs({ address, error: typeof proved.left === "string" ? proved.left : proved.left._tag })
            )
            yield* closeConnection(scope)
            return undefined
          }
          return { connection: proved.right, scope }
        })

      // --- Links: one queue and one fiber per destination, forked in the links scope ---
      const runLink = (to: StoreId, queue: Queue.Queue<RaftMessage>) =>
        Effect.gen(function* () {
          let conn: Connection | undefined
          let failures = 0
          let pendingSnapshots = 0
          const snapshotLock = yield* Effect.makeSemaphore(1)
          // the pause after each consecutive failure; reset by a successful send
          const pauses = yield* Schedule.driver(backoff)

          const dropped = (n: number, reason: string) =>
            Effect.logDebug(`transport: dropped ${n} messages`).pipe(Effect.annotateLogs({ reason }))

          const fail = Effect.gen(function* () {
            failures++
            if (failures === 1)
              yield* Effect.logInfo("transport: store unreachable, dropping its messages while retrying")
            const c = conn
            conn = undefined
            if (c !== undefined) yield* closeConnection(c.scope)
            // NB: the backoff never ends, so `next` always pauses and never fails
            yield* Effect.ignore(pauses.next(undefined))
            // what came in while paused is stale: Raft resends what still matters
            const stale = yield* Queue.takeAll(queue)
            if (stale.length > 0) yield* dropped(stale.length, "backing off")
          })

          const sendBatch = (c: Connection, batch: ReadonlyArray<RaftMessage>) =>
            Effect.gen(function* () {
              const plain = batch.filter((m) => !hasSnapshot(m))
              const fitting = plain.filter(fitsFrame)
              if (fitting.length < plain.length) {
                yield* Effect.logWarning("transport: dropped a message too large for one frame")
              }
              for (const messages of batchesByBytes(fitting, config.maxBatchBytes)) {
                const sent = yield* c.connection
                  .raftOneWay(messages)
                  .pipe(
                    Effect.timeoutFail({ duration: batchTimeout, onTimeout: () => "batch timeout" as const }),
                    Effect.either
                  )
                if (sent._tag === "Left") return false
              }
              for (const m of batch) {
                if (!hasSnapshot(m)) continue
                if (pendingSnapshots >= config.maxPendingSnapshots) {
                  yield* Effect.logDebug("transport: too many snapshots pending, dropped one")
                  continue
                }
                pendingSnapshots++
                yield* sendSnapshot(c.connection, m, config.snapshotPieceBytes).pipe(
                  snapshotLock.withPermits(1),
                  Effect.ensuring(Effect.sync(() => void pendingSnapshots--)),
                  Effect.forkIn(c.scope)
                )
              }
              return true
            })

          const step = Effect.gen(function* () {
            const batch = yield* takeBatch(queue, config.maxBatchMessages)
            if (conn === undefined) {
              conn = yield* open(to)
              if (conn === undefined) {
                yield* dropped(batch.length, "unreachable")
                return yield* fail
              }
              if (failures > 0) yield* Effect.logInfo("transport: store reachable again")
            }
            if (!(yield* sendBatch(conn, batch))) return yield* fail
            if (failures > 0) {
              failures = 0
              yield* pauses.reset
            }
          })

          // NB: a defect in one step must not end the link: the destination would stay silent for good
          yield* step.pipe(
            Effect.catchAllDefect((defect) =>
              Effect.logError("transport link step died").pipe(Effect.annotateLogs({ defect }))
            ),
            Effect.forever
          )
        }).pipe(Effect.annotateLogs({ storeId: to }))

      const links = new Map<StoreId, Queue.Queue<RaftMessage>>()

      const linkTo = (to: StoreId): Effect.Effect<Queue.Queue<RaftMessage>> =>
        Effect.suspend(() => {
          const existing = links.get(to)
          if (existing !== undefined) return Effect.succeed(existing)
          return Effect.flatMap(Queue.dropping<RaftMessage>(config.queueCapacity), (queue) => {
            // NB: re-check: another fiber of this store may have made the link while the queue was made
            const raced = links.get(to)
            if (raced !== undefined) return Effect.succeed(raced)
            links.set(to, queue)
            return Effect.as(Effect.forkIn(Effect.interruptible(runLink(to, queue)), linksScope), queue)
          })
        })

      // --- Send: group by destination, keep each destination's order ---
      const send = (messages: ReadonlyArray<RaftMessage>) =>
        Effect.suspend(() => {
          if (closed) return Effect.void
          const byStore = new Map<StoreId, Array<RaftMessage>>()
          for (const m of messages) {
            const to = m.toPeer.storeId
            const list = byStore.get(to)
            if (list === undefined) byStore.set(to, [m])
            else list.push(m)
          }
          return Effect.forEach(
            byStore,
            ([to, list]) =>
              Effect.flatMap(linkTo(to), (q) => Queue.offerAll(q, list)).pipe(
                Effect.flatMap((all) =>
                  all
                    ? Effect.void
                    : Effect.logDebug("transport: queue full, dropped messages").pipe(
                        Effect.annotateLogs({ storeId: to })
                      )
                )
              ),
            { discard: true }
          )
        })

      return Transport.of({ send })
    })
  )
