/**
 * The receiving side of store-to-store Raft traffic: the `Raft` and `Snapshot` handlers of `TinyKvRpcs`
 * (TinyKV `RaftStorage.Raft` / `Snapshot` and `snap_runner.go` `recvSnap`).
 *
 * `Raft` puts its batch into one inbox and returns; a single fiber drains the inbox into `deliver`
 * (the Router's `sendRaftMessage`). NB: the inbox is what keeps order across batches — @effect/rpc runs
 * every request in its own fiber, and two deliveries running side by side could interleave, but each
 * request fiber starts in arrival order and its first step is the one atomic `offerAll`. The inbox is
 * bounded and drops when full: Raft tolerates loss, a stalled Router must not grow the heap.
 *
 * `Snapshot` reassembles the pieces of one transfer (the contract is on `TinyKvRpcs.Snapshot`): piece 0
 * carries the MsgSnapshot with its data taken out, the pieces' data concatenated is that data. A piece
 * out of sequence is rejected with `InvalidArgument` and ends its transfer; a transfer over the size limit
 * is dropped the same way; one that stalls is dropped by a sweep. The sender then gives up, and Raft sends
 * a fresh snapshot later.
 */
import { Clock, Duration, Effect, Option, Queue, Runtime, type Scope } from "effect"
import { InvalidArgument, type KvError, ServerIsBusy } from "../protocol/errorpb.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { recordSnapshot } from "../raftstore/metrics.js"
import type { Deliver } from "../services/Transport.js"
import type { RaftHandlers } from "./handlers.js"
import { RaftIntake } from "./raftIntake.js"

export interface RaftHandlersOptions {
  /** Messages waiting for `deliver`; more are dropped. */
  readonly inboxCapacity: number
  /** A transfer whose data passes this many bytes is dropped. */
  readonly maxTransferBytes: number
  /** Transfers reassembled at the same time; a new one beyond this is refused with `ServerIsBusy`. */
  readonly maxTransfers: number
  /** A transfer with no piece for this long is dropped. */
  readonly stallTimeout: Duration.DurationInput
}

export const defaultRaftHandlersOptions: RaftHandlersOptions = {
  inboxCapacity: 65_536,
  maxTransferBytes: 1024 * 1024 * 1024,
  maxTransfers: 16,
  stallTimeout: "60 seconds"
}

type Piece = Parameters<RaftHandlers["Snapshot"]>[0]

interface Transfer {
  readonly message: RaftMessage
  readonly pieces: Array<Uint8Array>
  bytes: number
  nextSeq: number
  touchedAt: number
}

/**
 * The handlers, with their delivery fiber and stall sweep living in the caller's scope (the handlers
 * layer's, when plugged in with `layerHandlersWith(makeRaftHandlers(deliver))`).
 */
export const makeRaftHandlers = (
  deliver: Deliver,
  options: Partial<RaftHandlersOptions> = {},
  /**
   * `deliver` without an Effect (the Router's `sendRaftMessageNow`): what the server's intake uses, straight,
   * when given — no inbox and no delivery fiber on that path (`raftIntake.ts`).
   */
  deliverNow?: (message: RaftMessage) => boolean
): Effect.Effect<RaftHandlers, never, Scope.Scope> =>
  Effect.gen(function* () {
    const config = { ...defaultRaftHandlersOptions, ...options }
    const stallMillis = Duration.toMillis(Duration.decode(config.stallTimeout))

    // --- Delivery: the inbox and its one fiber; the scope interrupts the fiber, then shuts the inbox ---
    const inbox = yield* Queue.dropping<RaftMessage>(config.inboxCapacity)
    yield* Effect.addFinalizer(() => Queue.shutdown(inbox))
    yield* Queue.take(inbox).pipe(
      Effect.flatMap((first) => Effect.zipRight(deliver(first), Queue.takeUpTo(inbox, 1023))),
      Effect.flatMap((rest) => Effect.forEach(rest, deliver, { discard: true })),
      Effect.catchAllDefect((defect) => Effect.logError("Raft delivery died").pipe(Effect.annotateLogs({ defect }))),
      Effect.forever,
      Effect.interruptible,
      Effect.forkScoped
    )
    const enqueue = (messages: ReadonlyArray<RaftMessage>) =>
      Effect.flatMap(Queue.offerAll(inbox, messages), (all) =>
        all ? Effect.void : Effect.logDebug("Raft inbox full: dropped messages")
      )
    // what the connections' serialization hands over at once when the server has an intake (`raftIntake.ts`):
    // each batch straight to `deliverNow` when given, else into the same inbox — synchronously, in order
    const intake = Option.getOrUndefined(yield* Effect.serviceOption(RaftIntake))
    if (intake !== undefined) {
      const runtime = yield* Effect.runtime<never>()
      const take = deliverNow ?? ((m: RaftMessage) => inbox.unsafeOffer(m))
      const deliverBatch = (messages: ReadonlyArray<RaftMessage>) => {
        let all = true
        for (const m of messages) all = take(m) && all
        if (!all) Runtime.runFork(runtime)(Effect.logDebug("Raft inbox full: dropped messages"))
      }
      intake.deliver = deliverBatch
      // before the inbox shuts (finalizers run last first): nothing is offered to a closed inbox
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (intake.deliver === deliverBatch) intake.deliver = undefined
        })
      )
    }

    // --- Snapshot reassembly: transfers by id, owned by the handlers; the sweep frees stalled ones ---
    const transfers = new Map<string, Transfer>()
    const sweep = (now: number) => {
      for (const [id, t] of transfers) {
        if (now - t.touchedAt >= stallMillis) transfers.delete(id)
      }
    }
    yield* Clock.currentTimeMillis.pipe(
      Effect.map(sweep),
      Effect.delay(Duration.millis(Math.max(1, stallMillis / 4))),
      Effect.forever,
      Effect.interruptible,
      Effect.forkScoped
    )

    const reject = (transferId: string, message: string) => {
      transfers.delete(transferId)
      return Effect.fail(new InvalidArgument({ message: `snapshot transfer ${transferId}: ${message}` }))
    }

    const onPiece = (piece: Piece, now: number): Effect.Effect<void, KvError> => {
      sweep(now)
      const { transferId, seq } = piece
      let t = transfers.get(transferId)
      if (seq === 0) {
        if (t !== undefined) return reject(transferId, "piece 0 arrived twice")
        if (piece.message?.message.snapshot === undefined) return reject(transferId, "piece 0 carries no MsgSnapshot")
        if (transfers.size >= config.maxTransfers) {
          return Effect.fail(new ServerIsBusy({ reason: `${transfers.size} snapshot transfers in progress` }))
        }
        t = { message: piece.message, pieces: [], bytes: 0, nextSeq: 0, touchedAt: now }
        transfers.set(transferId, t)
      } else if (t === undefined) {
        return reject(transferId, `piece ${seq} of an unknown transfer (never started, failed or stalled)`)
      }
      if (seq !== t.nextSeq) return reject(transferId, `expected piece ${t.nextSeq}, got ${seq}`)
      if (t.bytes + piece.data.length > config.maxTransferBytes) {
        return reject(transferId, `larger than ${config.maxTransferBytes} bytes`)
      }
      t.pieces.push(piece.data)
      t.bytes += piece.data.length
      t.nextSeq++
      t.touchedAt = now
      if (!piece.last) return Effect.void
      transfers.delete(transferId)
      recordSnapshot(t.message.toPeer.storeId, "received")
      return enqueue([withSnapshotData(t.message, concat(t.pieces, t.bytes))])
    }

    return {
      Raft: ({ messages }) => enqueue(messages),
      Snapshot: (piece) => Effect.flatMap(Clock.currentTimeMillis, (now) => onPiece(piece, now))
    }
  })

const concat = (pieces: ReadonlyArray<Uint8Array>, bytes: number): Uint8Array => {
  const out = new Uint8Array(bytes)
  let at = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const withSnapshotData = (m: RaftMessage, data: Uint8Array): RaftMessage => {
  const snapshot = m.message.snapshot!
  return { ...m, message: { ...m.message, snapshot: { ...snapshot, data } } }
}
