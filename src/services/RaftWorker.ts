/**
 * RaftWorker: the fiber that owns every `Peer` of a store (TinyKV `raft_worker.go`, TiKV's raft poller).
 *
 * Owns: the peers' Raft state — only it steps, ticks, proposes to, persists, applies and advances a
 * peer — and the rounds (`src/raftstore/round.ts`): one batch of mail, one engine write with one fsync,
 * replies after the write. Also owns the ticker (its own mailbox's ticks) and the scheduler heartbeats its
 * leaders send. It may touch: its mailbox (takes), the `PeerRegistry` (removes destroyed and failed peers,
 * closes it when it dies), the StoreWorker's mailbox (re-routed messages, through the Router), Storage,
 * Transport and the SchedulerClient.
 *
 * Failure: a `RaftInvariantError` thrown by one region's Raft core stops that region's peer only (its
 * commands are answered RegionNotFound, the Router refuses the region from then on, the error is logged);
 * the other regions go on. Anything else that ends the worker — a storage error, a bug — closes the whole
 * store: every command queued or waiting is answered and the Router refuses everything, so nothing waits
 * for a worker that is gone.
 */
import { Context, type Effect } from "effect"

export class RaftWorker extends Context.Tag("tinykv/raftstore/RaftWorker")<
  RaftWorker,
  {
    /** Rounds completed so far. */
    readonly rounds: Effect.Effect<number>
    /** Completes when the worker has stopped, by shutdown or by failure (the store is closed by then). */
    readonly stopped: Effect.Effect<void>
  }
>() {}
