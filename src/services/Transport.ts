/**
 * Transport: sends Raft messages to peers on other stores (TinyKV `raftstore.Transport`).
 *
 * Best effort by contract: Raft tolerates loss, duplication and reordering, so `send` never fails —
 * an unreachable store or a full buffer drops the message (and logs at debug level). Layers batch
 * per destination store (one RPC per store per round) and stream snapshots in chunks of ≤ 1 MiB.
 *
 * The receiving side is the store's `Router.sendRaftMessage`; how messages get there is the layer's
 * business (RPC for the live layer, a function call through the codec for the memory layer).
 */
import { Context, type Effect } from "effect"
import type { StoreId } from "../protocol/ids.js"
import type { RaftMessage } from "../protocol/raftServer.js"

export class Transport extends Context.Tag("tinykv/Transport")<
  Transport,
  {
    /** Hands the messages to their destination stores (`toPeer.storeId`); returns without waiting for delivery. */
    readonly send: (messages: ReadonlyArray<RaftMessage>) => Effect.Effect<void>
  }
>() {}

/** Where a store receives the messages addressed to it (its Router's `sendRaftMessage`). */
export type Deliver = (message: RaftMessage) => Effect.Effect<void>

/** Resolves a store id to `HOST:PORT` (from the scheduler, cached by the caller). */
export type ResolveStore = (storeId: StoreId) => Effect.Effect<string | undefined>
