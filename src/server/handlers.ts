/** Every `TinyKvRpcs` handler: raw KV, transactions, and the standalone TSO. */
import { Effect } from "effect"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { Tso } from "../services/Tso.js"
import { makeTxnHandlers } from "../transaction/handlers.js"
import { makeRawHandlers } from "./rawHandlers.js"

export const layerHandlers = TinyKvRpcs.toLayer(
  Effect.gen(function* () {
    const raw = yield* makeRawHandlers
    const txn = yield* makeTxnHandlers
    const tso = yield* Tso
    return {
      ...raw,
      ...txn,
      Tso: ({ count }) => Effect.map(tso.next(count), (timestamp) => ({ count, timestamp }))
    }
  })
)
