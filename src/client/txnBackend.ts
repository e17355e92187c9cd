/**
 * TxnBackend: what a client transaction needs from the cluster, independent of the network.
 *
 * Every request a `Transaction` sends concerns keys of ONE region (it groups keys with
 * `groupByRegion` first) and carries no `context`: routing, and filling `context` in, is the
 * backend's job. `KvScan` may cross regions: the backend continues region by region until `limit`
 * pairs or the end of the key space. `KvResolveLock` names no key, so it takes `regionKey`: any
 * key of the region whose locks to resolve (the key the client found locked).
 */
import { Effect } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type { Timestamp } from "../protocol/ids.js"
import type { ResolveLockRequest, ResolveLockResponse } from "../protocol/kvrpc.js"
import type { StoreCalls, TxnMethod } from "../protocol/rpcCalls.js"
import type { TxnHandlers } from "../transaction/handlers.js"

/**
 * The transactional calls of `TinyKvRpcs`, plus timestamps and grouping. `E` is what the calls fail
 * with: `KvError` in-process; a network backend adds its transport errors (unreachable store,
 * timeout), which then flow through the transaction unchanged.
 */
export interface TxnBackend<E = KvError> extends Omit<StoreCalls<TxnMethod, E>, "KvResolveLock"> {
  /** A fresh timestamp, larger than every timestamp handed out before. */
  readonly tso: Effect.Effect<Timestamp, E>
  /** Partitions `keys` by region, keeping their order within a group; a standalone store has one group. */
  readonly groupByRegion: (
    keys: ReadonlyArray<Uint8Array>
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<Uint8Array>>, E>
  readonly KvResolveLock: (req: ResolveLockRequest, regionKey: Uint8Array) => Effect.Effect<ResolveLockResponse, E>
}

/** One region holds every key: a single group. */
export const oneRegion = (keys: ReadonlyArray<Uint8Array>): Effect.Effect<ReadonlyArray<ReadonlyArray<Uint8Array>>> =>
  Effect.succeed(keys.length === 0 ? [] : [keys])

/** A backend calling in-process handlers directly: one store holding every key (standalone). */
export const backendFromHandlers = (handlers: TxnHandlers, tso: Effect.Effect<Timestamp, KvError>): TxnBackend => ({
  ...handlers,
  tso,
  groupByRegion: oneRegion,
  // the store's one region holds every lock, so `regionKey` has nothing to choose between
  KvResolveLock: (req) => handlers.KvResolveLock(req)
})
