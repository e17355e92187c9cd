/**
 * One link of the live transport (`transportRpc.ts`): the Raft messages for one destination store, written
 * to a socket of their own by whoever sends them, as one-way `Raft` requests (`src/protocol/oneWay.ts`) —
 * the same frames @effect/rpc's client would write, read by the store's fast lane as before.
 *
 * Why not a queue and a fiber per link (what it was): every batch took the link fiber's turn, an Effect
 * encode, a socket write awaited until Node's callback, and a deadline race of two more fibers — about a
 * third of a store's run-loop steps per replicated put (docs/PERFORMANCE.md, "Links written in
 * place"). A send on a connected link is now one synchronous encode and `socket.write`; Node keeps what the
 * kernel does not take yet, in order.
 *
 * Phases:
 * - `idle`: no socket. The next send starts connecting (a fiber: resolve the address, dial, each within
 *   `connectTimeout`); its messages and the next ones wait for the socket (at most `queueCapacity`).
 * - `connecting`: sends add to the waiting messages; the new socket writes them first, in order.
 * - `up`: sends write at once. While more than `maxBufferedBytes` wait in Node's buffer, sends are dropped;
 *   a socket whose buffer has not drained for `batchTimeoutMs` (the peer stopped reading: a paused
 *   process) is given up.
 * - `paused`: after any failure (no address, cannot connect, the socket closed or stalled), for a pause that
 *   doubles per consecutive failure (`backoffInitialMs` … `backoffMaxMs`); sends are dropped meanwhile (Raft
 *   resends what still matters) and the first send after it connects again.
 *
 * A message carrying a snapshot goes by `Snapshot` pieces over an RPC connection opened for the transfer
 * (`transportSnapshot.ts`), one transfer at a time and at most `maxPendingSnapshots` waiting per link: it
 * may overtake or trail the messages around it, which Raft tolerates.
 */
import { type Duration, Effect, Either, Exit, Runtime, Schema, Scope } from "effect"
import type * as net from "node:net"
import { ONE_WAY_HEADER } from "../protocol/oneWay.js"
import type { StoreId } from "../protocol/ids.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { RaftPayload } from "../protocol/rpcs.js"
import { isValidAddress } from "../rpc/address.js"
import { framedMsgPack } from "../rpc/framedMsgPack.js"
import { dialRawSocket } from "../rpc/rawDial.js"
import { connectStore } from "../rpc/storeConnection.js"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import type { ResolveStore } from "../services/Transport.js"
import { batchesByBytes, fitsFrame } from "./transportBatch.js"
import { hasSnapshot, sendSnapshot } from "./transportSnapshot.js"

export interface RaftLinkConfig {
  readonly resolve: ResolveStore
  readonly tls: TlsCredentials | undefined
  readonly queueCapacity: number
  readonly maxBatchBytes: number
  readonly maxBufferedBytes: number
  readonly snapshotPieceBytes: number
  readonly maxPendingSnapshots: number
  readonly connectTimeout: Duration.Duration
  readonly sendTimeout: Duration.Duration
  readonly closeTimeout: Duration.Duration
  readonly batchTimeoutMs: number
  readonly backoffInitialMs: number
  readonly backoffMaxMs: number
}

/** What every link of one transport shares. */
export interface RaftLinkEnv {
  readonly config: RaftLinkConfig
  /** Where connecting and snapshot fibers run; closing it interrupts them. */
  readonly scope: Scope.Scope
  /** Runs the logs of socket events, which happen outside any fiber. */
  readonly runtime: Runtime.Runtime<never>
  readonly nowMs: () => number
}

const encodePayload = Schema.encodeEither(RaftPayload)

const oneWayHeaders: ReadonlyArray<[string, string]> = [[ONE_WAY_HEADER, "1"]]

const dropped = (n: number, reason: string): Effect.Effect<void> =>
  Effect.logDebug(`transport: dropped ${n} messages`).pipe(Effect.annotateLogs({ reason }))

type Phase = "idle" | "connecting" | "up" | "paused" | "closed"

export class RaftLink {
  private phase: Phase = "idle"
  private socket: net.Socket | undefined
  private encode: ((message: unknown) => Uint8Array) | undefined
  private waiting: Array<RaftMessage> = []
  private failures = 0
  private pausedUntil = 0
  /** When Node's buffer of the socket last went over its mark without draining since. */
  private bufferedSince: number | undefined
  private pendingSnapshots = 0
  private requestId = 0
  private readonly snapshotLock = Effect.unsafeMakeSemaphore(1)

  constructor(
    readonly to: StoreId,
    private readonly env: RaftLinkEnv
  ) {}

  /** Writes, queues or drops `messages` (never fails); the Effect is only what must be logged or forked. */
  send(messages: ReadonlyArray<RaftMessage>): Effect.Effect<void> {
    let plain = messages
    let snapshots: Array<RaftMessage> | undefined
    for (const m of messages) {
      if (hasSnapshot(m)) (snapshots ??= []).push(m)
    }
    if (snapshots !== undefined) plain = messages.filter((m) => !hasSnapshot(m))
    const sent = plain.length > 0 ? this.offer(plain) : Effect.void
    if (snapshots === undefined) return sent
    return Effect.zipRight(
      sent,
      Effect.forEach(snapshots, (m) => this.snapshot(m), { discard: true })
    )
  }

  /** Closes the socket for good: the transport is closing. */
  close(): void {
    this.phase = "closed"
    this.waiting = []
    this.dropSocket()
  }

  private offer(messages: ReadonlyArray<RaftMessage>): Effect.Effect<void> {
    switch (this.phase) {
      case "up":
        return this.write(messages)
      case "connecting":
        return this.wait(messages)
      case "paused":
        if (this.env.nowMs() < this.pausedUntil) return dropped(messages.length, "backing off")
        this.phase = "idle"
        return this.offer(messages)
      case "idle": {
        this.phase = "connecting"
        const waited = this.wait(messages)
        return Effect.zipRight(Effect.forkIn(this.connect, this.env.scope), waited)
      }
      case "closed":
        return Effect.void
    }
  }

  private wait(messages: ReadonlyArray<RaftMessage>): Effect.Effect<void> {
    const room = this.env.config.queueCapacity - this.waiting.length
    for (let i = 0; i < messages.length && i < room; i++) this.waiting.push(messages[i]!)
    return messages.length > room ? dropped(messages.length - Math.max(0, room), "queue full") : Effect.void
  }

  private write(messages: ReadonlyArray<RaftMessage>): Effect.Effect<void> {
    const socket = this.socket!
    const config = this.env.config
    if (this.bufferedSince !== undefined && this.env.nowMs() - this.bufferedSince >= config.batchTimeoutMs) {
      this.fail()
      return Effect.zipRight(
        Effect.logInfo("transport: the store stopped reading, giving up the connection"),
        dropped(messages.length, "stalled")
      )
    }
    if (socket.writableLength > config.maxBufferedBytes) return dropped(messages.length, "socket buffer full")
    let fitting = messages
    let log: Effect.Effect<void> = Effect.void
    if (!messages.every(fitsFrame)) {
      fitting = messages.filter(fitsFrame)
      log = Effect.logWarning("transport: dropped a message too large for one frame")
    }
    for (const batch of batchesByBytes(fitting, config.maxBatchBytes)) {
      const payload = encodePayload({ messages: batch })
      // NB: as @effect/rpc's client: a payload its own Schema cannot encode is a bug, not a refusal
      if (Either.isLeft(payload)) return Effect.die(payload.left)
      const bytes = this.encode!({
        _tag: "Request",
        id: String(++this.requestId),
        tag: "Raft",
        payload: payload.right,
        headers: oneWayHeaders
      })
      if (!socket.write(bytes) && this.bufferedSince === undefined) this.bufferedSince = this.env.nowMs()
    }
    return log
  }

  private get connect(): Effect.Effect<void> {
    const link = this
    const config = this.env.config
    return Effect.gen(function* () {
      const address = yield* config.resolve(link.to).pipe(
        Effect.timeout(config.connectTimeout),
        Effect.orElseSucceed(() => undefined)
      )
      if (link.phase !== "connecting") return
      if (address === undefined || !isValidAddress(address)) {
        yield* Effect.logDebug("transport: no address for store")
        return yield* link.failed("unreachable")
      }
      const dialled = yield* dialRawSocket(address, config.tls).pipe(
        Effect.timeoutFail({ duration: config.connectTimeout, onTimeout: () => new Error("connect timeout") }),
        Effect.either
      )
      if (Either.isLeft(dialled)) {
        yield* Effect.logDebug("transport: cannot connect").pipe(
          Effect.annotateLogs({ address, error: dialled.left.message })
        )
        return yield* link.failed("unreachable")
      }
      const socket = dialled.right
      if (link.phase !== "connecting") {
        socket.destroy()
        return
      }
      link.adopt(socket)
      if (link.failures > 0) {
        link.failures = 0
        yield* Effect.logInfo("transport: store reachable again")
      }
      const waiting = link.waiting
      link.waiting = []
      if (waiting.length > 0) yield* link.write(waiting)
    }).pipe(Effect.annotateLogs({ storeId: this.to }))
  }

  private adopt(socket: net.Socket): void {
    this.socket = socket
    this.encode = framedMsgPack.unsafeMake().encode as (message: unknown) => Uint8Array
    this.bufferedSince = undefined
    this.phase = "up"
    // the store never answers one-way requests; whatever it does send is read and dropped
    socket.resume()
    socket.on("drain", () => {
      if (this.socket === socket) this.bufferedSince = undefined
    })
    // an error is followed by `close`, which is where the link reacts
    socket.on("error", () => {})
    socket.on("close", () => {
      if (this.socket !== socket) return
      Runtime.runSync(this.env.runtime)(
        Effect.zipRight(
          Effect.sync(() => this.fail()),
          Effect.logDebug("transport: connection closed")
        ).pipe(Effect.annotateLogs({ storeId: this.to }))
      )
    })
  }

  /** The failure of a connection attempt, logged as the link's first failure says. */
  private failed(reason: string): Effect.Effect<void> {
    const n = this.waiting.length
    this.fail()
    return Effect.zipRight(
      this.failures === 1 ? this.unreachable : Effect.void,
      n > 0 ? dropped(n, reason) : Effect.void
    )
  }

  private readonly unreachable = Effect.logInfo("transport: store unreachable, dropping its messages while retrying")

  /** Drops the socket and what waits for one, and pauses the link for its backoff. */
  private fail(): void {
    if (this.phase === "closed") return
    this.dropSocket()
    this.waiting = []
    this.failures++
    const config = this.env.config
    const pause = Math.min(config.backoffInitialMs * 2 ** Math.min(this.failures - 1, 30), config.backoffMaxMs)
    this.pausedUntil = this.env.nowMs() + pause
    this.phase = "paused"
  }

  private dropSocket(): void {
    const socket = this.socket
    this.socket = undefined
    this.encode = undefined
    this.bufferedSince = undefined
    if (socket !== undefined && !socket.destroyed) socket.destroy()
  }

  private snapshot(m: RaftMessage): Effect.Effect<void> {
    const config = this.env.config
    if (this.pendingSnapshots >= config.maxPendingSnapshots) {
      return Effect.logDebug("transport: too many snapshots pending, dropped one")
    }
    this.pendingSnapshots++
    const send = (connectionScope: Scope.Scope) =>
      Effect.gen(this, function* () {
        const address = yield* config.resolve(this.to).pipe(
          Effect.timeout(config.connectTimeout),
          Effect.orElseSucceed(() => undefined)
        )
        if (address === undefined || !isValidAddress(address)) {
          return yield* Effect.logDebug("transport: no address for store, dropped a snapshot")
        }
        const connection = yield* connectStore(address, { timeout: config.sendTimeout, tls: config.tls }).pipe(
          Scope.extend(connectionScope)
        )
        yield* sendSnapshot(connection, m, config.snapshotPieceBytes)
      })
    // NB: disconnected: closing an RPC connection can outlive the transfer (its socket may be stuck); it
    // finishes in the background after `closeTimeout`, so neither the transfer nor a stopping store waits on it
    const transfer = Effect.acquireUseRelease(Scope.make(), send, (connectionScope) =>
      Scope.close(connectionScope, Exit.void).pipe(
        Effect.disconnect,
        Effect.timeout(config.closeTimeout),
        Effect.ignore
      )
    ).pipe(
      Effect.catchAll((e) =>
        Effect.logDebug("transport: cannot send a snapshot").pipe(Effect.annotateLogs({ error: e.message }))
      ),
      this.snapshotLock.withPermits(1),
      Effect.ensuring(Effect.sync(() => void this.pendingSnapshots--)),
      Effect.annotateLogs({ storeId: this.to })
    )
    return Effect.asVoid(Effect.forkIn(transfer, this.env.scope))
  }
}
