/**
 * Writes the store's fast lane (`fastLane.ts`) starts in one synchronous call, on the connection's own fiber, and
 * answers from a callback when their command is applied (`KvStorage.writeNow`: a region with a live peer here,
 * `Router.sendCommandNow`): no fiber, no handler Effect and no `Deferred.await` per write (docs/PERFORMANCE.md,
 * "Writes without a fiber"). Anything else — a request `validate.ts` would refuse, a region this store has no
 * peer of, a standalone store — returns false, and the request goes to its handler (`rawHandlers.ts`), which
 * runs it, or refuses it with its typed error. What the client sees is the same either way: the handler's
 * answer, or the same typed error from the region.
 */
import { Context, Effect, Layer } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type * as Kv from "../protocol/kvrpc.js"
import { KvStorage } from "../services/KvStorage.js"
import { isCf } from "../services/Storage.js"
import { isValidKey, isValidValue } from "./validate.js"

/** Called once with a started write's outcome: undefined when it applied. Must not throw. */
export type WriteDone = (error: KvError | undefined) => void

export class FastWrites extends Context.Tag("tinykv/server/FastWrites")<
  FastWrites,
  {
    /** Starts `RawPut`: true when started (`done` follows), false for its handler to run it. */
    readonly RawPut: (request: Kv.RawPutRequest, done: WriteDone) => boolean
  }
>() {}

export const makeFastWrites = (storage: KvStorage["Type"]): FastWrites["Type"] => ({
  RawPut: (request, done) => {
    const { cf, key, value } = request
    if (storage.writeNow === undefined || !isCf(cf) || !isValidKey(key) || !isValidValue(value)) return false
    return storage.writeNow(request.context, "raw", [{ _tag: "Put", cf, key, value }], done)
  }
})

export const layerFastWrites: Layer.Layer<FastWrites, never, KvStorage> = Layer.effect(
  FastWrites,
  Effect.map(KvStorage, makeFastWrites)
)
