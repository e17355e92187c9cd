/**
 * Standalone `KvStorage`: the engine directly, no replication (TinyKV project 1). Every write is
 * synced before it is acknowledged. The request context is ignored: one store holds all keys.
 */
import { Effect, Layer } from "effect"
import { KvStorage, type KvReader } from "../services/KvStorage.js"
import { Storage, type WriteOp } from "../services/Storage.js"
import { layerMemory } from "./storageMemory.js"

export const layerStandalone: Layer.Layer<KvStorage, never, Storage> = Layer.effect(
  KvStorage,
  Effect.gen(function* () {
    const storage = yield* Storage
    return KvStorage.of({
      write: (_context, batch) =>
        storage.write(
          batch.map(
            (m): WriteOp =>
              m._tag === "Put"
                ? { _tag: "Put", space: m.cf, key: m.key, value: m.value }
                : { _tag: "Delete", space: m.cf, key: m.key }
          ),
          { sync: true }
        ),
      reader: (_context) =>
        Effect.map(
          storage.snapshot,
          (snap): KvReader => ({
            getCF: (cf, key) => snap.get(cf, key),
            iterCF: (cf, start, end) => snap.scan(cf, { start, end })
          })
        )
    })
  })
)

/** Standalone over a fresh memory engine: the `KvStorage` for unit tests. */
export const layerKvMemory: Layer.Layer<KvStorage> = layerStandalone.pipe(Layer.provide(layerMemory))
