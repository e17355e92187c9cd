/**
 * How the raw API reaches the store serving a key, whatever the deployment: a standalone store
 * serves every key over one connection; a cluster routes each key to its region's leader.
 */
import type { RpcClientError } from "@effect/rpc"
import type { Effect } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type { Context } from "../protocol/kvrpc.js"
import type { TinyKvRpcClient } from "../rpc/storeConnection.js"
import type { ClientError } from "./errors.js"

/**
 * One request to the store serving a key: the connection, the `context` its store checks (none for
 * a standalone store), and the end key of the region it serves (empty: to the end of the key space).
 */
export type KeyCall<A> = (
  rpc: TinyKvRpcClient,
  context: Context | undefined,
  regionEnd: Uint8Array
) => Effect.Effect<A, KvError | RpcClientError.RpcClientError>

/** Runs `call` on the store serving `key` (routing and retries are the sender's). */
export type SendToKey = <A>(key: Uint8Array, method: string, call: KeyCall<A>) => Effect.Effect<A, ClientError>

/**
 * Runs `call` once per region on the items whose keys that region holds (one call with all of them
 * for a standalone store); the answers, one per call. Routing, regrouping after splits and retries are
 * the sender's.
 */
export type SendToKeys = <T, A>(
  items: ReadonlyArray<T>,
  keyOf: (item: T) => Uint8Array,
  method: string,
  call: (items: ReadonlyArray<T>) => KeyCall<A>
) => Effect.Effect<ReadonlyArray<A>, ClientError>

/** The request field naming the context, left out when there is none. */
export const contextField = (context: Context | undefined): { readonly context?: Context } =>
  context === undefined ? {} : { context }
