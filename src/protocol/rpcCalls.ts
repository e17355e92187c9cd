/**
 * The calls of `TinyKvRpcs` as plain functions, derived from the group so the request and response
 * types are written once: what the server's handlers implement and what a client backend offers.
 */
import type { Rpc, RpcGroup } from "@effect/rpc"
import type { Effect } from "effect"
import type { KvError } from "./errorpb.js"
import type { TinyKvRpcs } from "./rpcs.js"

type StoreRpc = RpcGroup.Rpcs<typeof TinyKvRpcs>

/** Every method a store serves. */
export type StoreMethod = Rpc.Tag<StoreRpc>

/** The transactional methods (Percolator's reads, prewrite, commit, rollback and lock resolution). */
export type TxnMethod = Extract<StoreMethod, `Kv${string}`>

export type RequestOf<M extends StoreMethod> = Rpc.Payload<Rpc.ExtractTag<StoreRpc, M>>
export type ResponseOf<M extends StoreMethod> = Rpc.Success<Rpc.ExtractTag<StoreRpc, M>>

/** The methods `M`, each a function from its request to its response, failing with `E`. */
export type StoreCalls<M extends StoreMethod, E = KvError> = {
  readonly [K in M]: (req: RequestOf<K>) => Effect.Effect<ResponseOf<K>, E>
}
