/**
 * StoreWorker: the fiber for store-level messages (TinyKV `store_worker.go`).
 *
 * Owns: the StoreWorker mailbox (Raft messages for regions without a live peer here) and the creation of
 * peers for new regions (`src/raftstore/storeWorker.ts` decides; the peer is persisted, then registered).
 * It may touch: the `PeerRegistry` (registers the peers it creates; reads the others' ranges), Storage
 * (region state, a new peer's initial state), Transport (a tombstone notice to a removed peer), and the
 * Router (re-delivering a message to the peer it created). It never steps or reads a peer's Raft state.
 * If it dies (an engine error), it closes the store, as the RaftWorker does: nothing is left half-running.
 */
import { Context, type Effect } from "effect"

/** Why a message for a region without a live peer was not used to create one (for tests and logs). */
export type StoreWorkerVerdict =
  | "redelivered"
  | "created"
  | "not-for-us"
  | "tombstone"
  | "not-initial"
  | "overlaps"
  | "failed"
  /** The store is out of disk space: no new replica starts here (its snapshot would not fit). */
  | "disk-full"

export class StoreWorker extends Context.Tag("tinykv/raftstore/StoreWorker")<
  StoreWorker,
  {
    /** How many messages got each verdict so far (for tests and status). */
    readonly verdicts: Effect.Effect<Readonly<Partial<Record<StoreWorkerVerdict, number>>>>
  }
>() {}
