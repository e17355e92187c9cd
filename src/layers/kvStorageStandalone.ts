/**
 * Standalone `KvStorage`: the engine directly, no replication (TinyKV project 1). Every write is
 * synced before it is acknowledged. The request context is ignored: one store holds all keys. Keys are
 * stored in their key space (`protocol/keyspace.ts`), and a reader sees its own space only.
 *
 * A full engine (`Storage.diskFull`) refuses a batch that puts anything with `DiskFull`; a batch of
 * deletes still goes through, since it gives room back.
 */
import { Effect, Layer } from "effect"
import { DiskFull, StorageError } from "../protocol/errorpb.js"
import { clampToRange, type KeySpace, localKeyOf, physicalKey, physicalOfLocal } from "../protocol/keyspace.js"
import { KvStorage, type KvReader } from "../services/KvStorage.js"
import { type EngineReader, type KeyValue, Storage, type WriteOp } from "../services/Storage.js"
import { layerMemory } from "./storageMemory.js"

const EMPTY = new Uint8Array(0)

/** Engine keys as keys of their space (the engine range already holds that space only). */
export function* stripSpace(kvs: Iterable<KeyValue>): IterableIterator<KeyValue> {
  for (const kv of kvs) yield { key: localKeyOf(kv.key), value: kv.value }
}

/** `space` of an engine snapshot. */
const spaceReader = (snap: EngineReader, space: KeySpace): KvReader => ({
  getCF: (cf, key) => snap.get(cf, physicalKey(space, key)),
  iterCF: (cf, start, end) =>
    stripSpace(snap.scan(cf, physicalOfLocal(space, clampToRange({ start: EMPTY, end: EMPTY }, start, end))))
})

export const layerStandalone: Layer.Layer<KvStorage, never, Storage> = Layer.effect(
  KvStorage,
  Effect.gen(function* () {
    const storage = yield* Storage
    return KvStorage.of({
      write: (_context, space, batch) => {
        const full = batch.some((m) => m._tag === "Put") ? storage.diskFull() : undefined
        if (full !== undefined) return Effect.fail(new DiskFull({ reason: full }))
        return storage.write(
          batch.map(
            (m): WriteOp =>
              m._tag === "Put"
                ? { _tag: "Put", space: m.cf, key: physicalKey(space, m.key), value: m.value }
                : { _tag: "Delete", space: m.cf, key: physicalKey(space, m.key) }
          ),
          { sync: true }
        )
      },
      reader: (_context, space) => Effect.map(storage.snapshot, (snap) => spaceReader(snap, space)),
      // a snapshot of the one engine answers every read: the fast lane may take any at once
      readNow: (_context, space, f) => {
        try {
          return { value: storage.readNow((snap) => f(spaceReader(snap, space))) }
        } catch (e) {
          // the engine could not open a snapshot: `reader` fails with the same StorageError
          if (e instanceof StorageError) return undefined
          throw e
        }
      }
    })
  })
)

/** Standalone over a fresh memory engine: the `KvStorage` for unit tests. */
export const layerKvMemory: Layer.Layer<KvStorage> = layerStandalone.pipe(Layer.provide(layerMemory))
