/** Every `TinyKvRpcs` handler: raw KV, transactions, store-to-store Raft traffic, and the TSO. */
import { Effect, Layer } from "effect"
import { InvalidArgument } from "../protocol/errorpb.js"
import type { StoreCalls } from "../protocol/rpcCalls.js"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { Tso } from "../services/Tso.js"
import { makeTxnHandlers } from "../transaction/handlers.js"
import { layerFastReads } from "./fastReads.js"
import { layerFastWrites } from "./fastWrites.js"
import { storeRequests } from "./metrics.js"
import { makeRawHandlers } from "./rawHandlers.js"

/** The store-to-store handlers: a replicated store routes them to its peers; a standalone one refuses. */
export type RaftHandlers = StoreCalls<"Raft" | "Snapshot">

const notReplicated = Effect.fail(
  new InvalidArgument({ message: "this store runs standalone: it takes no Raft messages" })
)

export const standaloneRaftHandlers: Effect.Effect<RaftHandlers> = Effect.succeed({
  Raft: () => notReplicated,
  Snapshot: () => notReplicated
})

/**
 * The handlers, the reads the fast lane may answer at once (`fastReads.ts`) and the writes it may start at once
 * (`fastWrites.ts`).
 */
export const layerHandlersWith = <E, R>(raft: Effect.Effect<RaftHandlers, E, R>) =>
  Layer.mergeAll(layerHandlersOnly(raft), layerFastReads, layerFastWrites)

const layerHandlersOnly = <E, R>(raft: Effect.Effect<RaftHandlers, E, R>) =>
  TinyKvRpcs.toLayer(
    Effect.gen(function* () {
      const raw = yield* makeRawHandlers
      const txn = yield* makeTxnHandlers
      const raftHandlers = yield* raft
      const tso = yield* Tso
      return storeRequests.instrument({
        ...raw,
        ...txn,
        ...raftHandlers,
        Tso: ({ count }: { readonly count: number }) =>
          Effect.map(tso.next(count), (timestamp) => ({ count, timestamp }))
      })
    })
  )

/** The handlers of a standalone store. */
export const layerHandlers: Layer.Layer<
  Layer.Layer.Success<ReturnType<typeof layerHandlersWith<never, never>>>,
  never,
  Layer.Layer.Context<ReturnType<typeof layerHandlersWith<never, never>>>
> = layerHandlersWith(standaloneRaftHandlers)
