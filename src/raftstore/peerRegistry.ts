/**
 * PeerRegistry: the state a store's Router, RaftWorker and StoreWorker share — the live peers by region,
 * the regions whose peer failed, the "closed" flag, and the two mailboxes (the RaftWorker's and the
 * StoreWorker's).
 *
 * Who writes what (everything else only reads):
 * - `peers`: filled from disk when the registry is built; then the StoreWorker `register`s the peers it
 *   creates for new regions, the RaftWorker `register`s the peers its splits create, `remove`s the peers it
 *   destroys (or replaces by a split's) and `markFailed`s the peers that broke a Raft invariant. `register`
 *   never replaces a live peer: the StoreWorker may have decided to create one while a split made it. Only the RaftWorker touches a peer's Raft state; the Router reads `stopped` only.
 * - `failed`: the RaftWorker (`markFailed`), and the loader for a peer that cannot even be loaded.
 * - `closed` and the mailboxes' draining: `close` only — on shutdown (the registry's finalizer, after every
 *   worker stopped) or when a worker dies. The Router enqueues; each worker takes from its own mailbox.
 *
 * The mailboxes are never shut down: an offer to a shut down queue interrupts the offering fiber, which
 * would kill a sender's transport link. A closed registry refuses instead (the Router checks `isClosed`).
 *
 * A service of the raftstore's own (its tag lives here, beside `Peer`, not in `src/services/`): it is how
 * the raftstore's parts share state, not something another implementation could stand in for.
 */
import { Context, type Effect, type Queue } from "effect"
import type { RegionId, StoreId } from "../protocol/ids.js"
import type { RaftInvariantError } from "../raft/index.js"
import type { PeerMsg, StoreMsg } from "../services/Router.js"
import type { Peer } from "./peer.js"
import type { DeferredWrites } from "./deferredWrites.js"
import type { RegionRanges } from "./regionRanges.js"

/** What the RaftWorker's mailbox holds: mail for one region's peer, or a tick for every peer. */
export type Envelope =
  | { readonly _tag: "Peer"; readonly regionId: RegionId; readonly msg: PeerMsg }
  | { readonly _tag: "Tick" }

export class PeerRegistry extends Context.Tag("tinykv/raftstore/PeerRegistry")<
  PeerRegistry,
  {
    readonly storeId: StoreId
    /** The live peers, by region. A removed or failed peer leaves this map in the same step it is stopped. */
    readonly peers: ReadonlyMap<RegionId, Peer>
    /**
     * The key ranges of the live initialized peers (`regionRanges.ts`): the overlap checks of the StoreWorker
     * and of incoming snapshots. Kept by `register`/`remove`/`markFailed` and by every change of a live peer's
     * region (`PeerStorage.onRegionChange`).
     */
    readonly ranges: RegionRanges<Peer>
    /**
     * The engine as the raftstore reads it: the Storage's latest state with the RaftWorker's held-back applies
     * laid over it (`deferredWrites.ts`). Every peer's storage, apply and the StoreWorker read through it.
     */
    readonly engine: DeferredWrites
    /**
     * The live peers the RaftWorker's tick visits: every peer `register`ed (or loaded), until it is removed,
     * failed, or goes to sleep (`hibernate.ts`, which alone takes peers out of it and puts them back).
     */
    readonly ticking: Set<Peer>
    /** Regions whose peer broke a Raft invariant: the Router refuses them until the store restarts. */
    readonly failed: ReadonlyMap<RegionId, RaftInvariantError>
    /** True once `close` ran: nothing is enqueued any more, and every command is answered at once. */
    readonly isClosed: () => boolean
    readonly raftMailbox: Queue.Queue<Envelope>
    readonly storeMailbox: Queue.Queue<StoreMsg>
    /** A new peer joins; refused (false) when its region already has a live peer. */
    readonly register: (peer: Peer) => boolean
    /** RaftWorker: the peer is destroyed; stopped and unregistered at once, so the Router refuses it. */
    readonly remove: (peer: Peer) => void
    /**
     * RaftWorker: the peer broke a Raft invariant. Stopped, unregistered and recorded in `failed`; its
     * waiting proposals are answered RegionNotFound through `peer.replies` (the caller completes them).
     */
    readonly markFailed: (peer: Peer, error: RaftInvariantError) => void
    /**
     * StoreWorker: the peer a message asked for could not be made from what the store holds of its region (the
     * loader's failure, for a region met after the start). Recorded in `failed`: its messages are dropped.
     */
    readonly markLoadFailed: (regionId: RegionId, error: RaftInvariantError) => void
    /**
     * Closes the store: sets `closed`, answers every command still queued with RegionNotFound, drops the
     * store mailbox, stops every peer and answers its waiting proposals. Idempotent.
     */
    readonly close: Effect.Effect<void>
  }
>() {}
