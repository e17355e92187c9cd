/**
 * Sending one MsgSnapshot as `Snapshot` pieces (TinyKV `snap_runner.go` `sendSnap`, 1 MiB chunks): a
 * msgpack frame over 16 MiB is rejected, and a snapshot can be far larger. The contract, from the RPC's
 * doc comment: a fresh `transferId`, `seq` 0, 1, …, `last` on the final piece, piece 0 carries the message
 * with its snapshot data taken out, the pieces' data concatenated is that data. The receiver is
 * `src/server/raftHandlers.ts`.
 *
 * Each piece is awaited (not discarded): that paces the sender to the receiver, keeps at most one piece
 * per transfer in flight, and stops the transfer at the first refused piece.
 */
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { recordSnapshot } from "../raftstore/metrics.js"
import type { StoreConnection } from "../rpc/storeConnection.js"
import type { RaftMessage } from "../protocol/raftServer.js"

export const hasSnapshot = (m: RaftMessage): boolean => m.message.snapshot !== undefined

/** `m` with its snapshot data replaced by nothing (what piece 0 carries). */
export const withoutSnapshotData = (m: RaftMessage): RaftMessage => {
  const snapshot = m.message.snapshot
  if (snapshot === undefined) return m
  return { ...m, message: { ...m.message, snapshot: { ...snapshot, data: new Uint8Array(0) } } }
}

/** Sends `m` (which carries a snapshot) in pieces of at most `pieceBytes`; logs and gives up on any failure. */
export const sendSnapshot = (connection: StoreConnection, m: RaftMessage, pieceBytes: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const data = m.message.snapshot?.data ?? new Uint8Array(0)
    const transferId = randomUUID()
    const count = Math.max(1, Math.ceil(data.length / pieceBytes))
    const first = withoutSnapshotData(m)
    for (let seq = 0; seq < count; seq++) {
      const piece = {
        transferId,
        seq,
        last: seq === count - 1,
        data: data.subarray(seq * pieceBytes, (seq + 1) * pieceBytes)
      }
      yield* connection.call("Snapshot", (c) => c.Snapshot(seq === 0 ? { ...piece, message: first } : piece))
    }
    recordSnapshot(m.fromPeer.storeId, "sent")
  }).pipe(
    Effect.catchAll((error) =>
      Effect.logDebug("transport: snapshot transfer abandoned").pipe(
        Effect.annotateLogs({ regionId: m.regionId, error: error._tag })
      )
    )
  )
