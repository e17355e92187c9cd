/**
 * Reads the store's fast lane (`fastLane.ts`) answers in one synchronous call, on the connection's own fiber,
 * when the storage can take them at once (`KvStorage.readNow`: a leader's local read under its lease,
 * `raftstore/localReader.ts`): no fiber, no scope and no Effect per read. Anything else — a request
 * `validate.ts` would refuse, a region this store does not lead under a lease — returns undefined, and the
 * request goes to its handler (`rawHandlers.ts`), which answers it, or refuses it with its typed error.
 */
import { Context, Effect, Layer } from "effect"
import type * as Kv from "../protocol/kvrpc.js"
import { KvStorage } from "../services/KvStorage.js"
import { isCf } from "../services/Storage.js"
import { isValidKey } from "./validate.js"

export class FastReads extends Context.Tag("tinykv/server/FastReads")<
  FastReads,
  {
    /** `RawGet`'s answer, or undefined for its handler to give. */
    readonly RawGet: (request: Kv.RawGetRequest) => Kv.RawGetResponse | undefined
  }
>() {}

const notFound: Kv.RawGetResponse = { notFound: true }

export const makeFastReads = (storage: KvStorage["Type"]): FastReads["Type"] => ({
  RawGet: (request) => {
    const { cf, key } = request
    if (storage.readNow === undefined || !isCf(cf) || !isValidKey(key)) return undefined
    const got = storage.readNow(request.context, "raw", (reader) => reader.getCF(cf, key))
    if (got === undefined) return undefined
    return got.value === undefined ? notFound : { value: got.value, notFound: false }
  }
})

export const layerFastReads: Layer.Layer<FastReads, never, KvStorage> = Layer.effect(
  FastReads,
  Effect.map(KvStorage, makeFastReads)
)
