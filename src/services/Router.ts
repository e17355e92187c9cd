/**
 * Router: where a store's messages go (TinyKV `router.go` / `RaftstoreRouter`).
 *
 * Each region with a peer on this store has a mailbox; store-level messages go to the StoreWorker. A
 * Raft message for a region without a mailbox is not an error for the sender: it falls back to the
 * StoreWorker, which may create the peer (an initial message) or drop it.
 *
 * The Router enqueues (live layer: `src/layers/router.ts`) and never changes a peer; its local reads only look
 * at a leader's lease and applied index. It refuses at once — MailboxClosed — a closed store, a region whose
 * peer failed (a broken Raft invariant; see `src/services/RaftWorker.ts`) and a stopped peer, so a command is
 * never queued where nobody answers it.
 *
 * Loss tolerance: Raft messages may be dropped; commands carry a reply that
 * is always completed — by the apply of their entry, or with an error.
 */
import { Context, Data, type Deferred, type Effect, type Scope } from "effect"
import type { RegionNotFound } from "../protocol/errorpb.js"
import type { RegionId } from "../protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import type { EngineReader } from "./Storage.js"

/** No peer of that region lives on this store. */
export class PeerNotFound extends Data.TaggedError("PeerNotFound")<{ readonly regionId: RegionId }> {}

/** The peer is shutting down or gone for good (destroyed, failed, or the store stops). */
export class MailboxClosed extends Data.TaggedError("MailboxClosed")<{ readonly regionId: RegionId }> {}

export type PeerMsg =
  /** From another store's peer. Droppable. */
  | { readonly _tag: "RaftMessage"; readonly message: RaftMessage }
  /** A client command; `reply` is completed exactly once. */
  | {
      readonly _tag: "RaftCommand"
      readonly request: RaftCmdRequest
      readonly reply: Deferred.Deferred<RaftCmdResponse>
    }
  /**
   * The end of a background split check of the region: its measured size (absent when the check failed),
   * for the scheduler's heartbeats and the next check's decision.
   */
  | {
      readonly _tag: "SplitCheckResult"
      /** The region's epoch version when measured: a size from before a split is not the region's now. */
      readonly version: number
      readonly size: number | undefined
      readonly keys: number | undefined
      /** The check wanted the region split and not every split was applied: check again soon. */
      readonly splitPending: boolean
    }
  /**
   * The scheduler asked for this region's report (it has an operator waiting): a leader reports in this round,
   * asleep or not (`heartbeat.ts`).
   */
  | { readonly _tag: "ReportToScheduler" }

export type StoreMsg =
  /** A Raft message for a region that has no peer here. */
  { readonly _tag: "RaftMessage"; readonly message: RaftMessage }

/** A read answered by `readLocal`: the response the peer's worker would have given, and its snapshot. */
export interface LocalRead {
  readonly response: RaftCmdResponse
  readonly reader: EngineReader
}

/** Answers a `Snap` command with a snapshot in the caller's scope, or says (undefined) the worker must. */
export type ReadLocal = (request: RaftCmdRequest) => Effect.Effect<LocalRead | undefined, never, Scope.Scope>

/**
 * `ReadLocal` in one synchronous call: `f` runs on the local read (its snapshot is released when `f` returns)
 * and its result comes back, or undefined when the worker must answer the command.
 */
export type ReadLocalNow = <A>(request: RaftCmdRequest, f: (read: LocalRead) => A) => { readonly value: A } | undefined

/**
 * Envelopes the RaftWorker's mailbox may hold before `sendRaftMessageNow` drops a message: the mailbox itself
 * is unbounded (commands and ticks must not be lost), a flood from the network must not grow the heap.
 */
export const MAX_WAITING_RAFT_MESSAGES = 65_536

export class Router extends Context.Tag("tinykv/Router")<
  Router,
  {
    /** Delivers to a region's peer. */
    readonly send: (regionId: RegionId, msg: PeerMsg) => Effect.Effect<void, PeerNotFound | MailboxClosed>
    /** Delivers to the store worker. */
    readonly sendStore: (msg: StoreMsg) => Effect.Effect<void>
    /** A Raft message from the network: to its peer, or to the store worker when the peer is missing or closing. */
    readonly sendRaftMessage: (message: RaftMessage) => Effect.Effect<void>
    /**
     * `sendRaftMessage` without an Effect, for the connection's read path (`server/raftIntake.ts`); false when
     * the message was dropped because `MAX_WAITING_RAFT_MESSAGES` wait already (Raft tolerates the loss).
     */
    readonly sendRaftMessageNow: (message: RaftMessage) => boolean
    /**
     * Proposes a command to its region's peer and waits for the applied result (errors are in the header).
     * `watch` is handed the reply before the command is sent: whoever completes it first answers the caller
     * (`raftstore/commandDeadlines.ts` bounds the wait this way).
     */
    readonly sendCommand: (
      request: RaftCmdRequest,
      watch?: (reply: Deferred.Deferred<RaftCmdResponse>) => Effect.Effect<void>
    ) => Effect.Effect<RaftCmdResponse, RegionNotFound>
    /**
     * `sendCommand` without an Effect or a fiber, for the store's fast lane (`server/fastWrites.ts`): the command
     * is queued for its peer at once and `onReply` is called with the reply (errors in its header) when it comes,
     * on whatever completes it (the RaftWorker's round, `watch`'s deadline). False, with nothing sent, when the
     * region has no live peer here: `sendCommand` is then the way (it answers `RegionNotFound`).
     */
    readonly sendCommandNow: (
      request: RaftCmdRequest,
      watch: (reply: Deferred.Deferred<RaftCmdResponse>) => void,
      onReply: (response: RaftCmdResponse) => void
    ) => boolean
    /**
     * A read-only (`Snap`) command answered on the caller's fiber when its region's leader holds a lease
     * (TiKV's `LocalReader`, `raftstore/localReader.ts`), with an engine snapshot in the caller's scope;
     * undefined when only the peer's worker can answer it (then send it as a command).
     */
    readonly readLocal: ReadLocal
    /** `readLocal` without an Effect: for the store's fast lane (`server/fastLane.ts`). */
    readonly readLocalNow: ReadLocalNow
  }
>() {}
