/**
 * A local timestamp oracle for a standalone store. It follows the wall clock (Effect `Clock`, so
 * tests can drive it) and never goes backwards: it persists a high-water mark (`meta` space) a
 * window ahead of what it hands out, so after a restart, even with a clock that stepped back, every
 * new timestamp is above every old one (the scheduler's TSO does the same, TinyKV `tso.go`).
 */
import { Clock, Effect, Layer, Ref } from "effect"
import { utf8 } from "../protocol/bytes.js"
import { decodeU64, encodeU64 } from "../protocol/storedCodec.js"
import type { Timestamp } from "../protocol/ids.js"
import { orStorageError, Storage } from "../services/Storage.js"
import { composeTs, MAX_LOGICAL, Tso } from "../services/Tso.js"

const TSO_KEY = utf8("tso/high-water-ms")
/** How far ahead of the clock the persisted high-water mark runs; one synced write per window. */
const SAVE_WINDOW_MS = 3_000n

export const layerTsoLocal: Layer.Layer<Tso, never, Storage> = Layer.effect(
  Tso,
  Effect.gen(function* () {
    const storage = yield* Storage
    const saved = yield* storage.get("meta", TSO_KEY).pipe(Effect.orDie)
    const floor = saved === undefined ? 0n : decodeU64(saved)
    // state: last physical ms handed out, its logical counter, and the persisted ceiling
    const state = yield* Ref.make({ physical: floor, logical: 0n, ceiling: floor })
    const lock = yield* Effect.makeSemaphore(1)
    return Tso.of({
      next: (count) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            const n = BigInt(Math.max(1, count))
            const now = BigInt(yield* Clock.currentTimeMillis)
            const s = yield* Ref.get(state)
            let physical = now > s.physical ? now : s.physical
            let logical = now > s.physical ? 0n : s.logical
            if (logical + n >= MAX_LOGICAL) {
              physical += 1n
              logical = 0n
            }
            let ceiling = s.ceiling
            if (physical >= ceiling) {
              ceiling = physical + SAVE_WINDOW_MS
              yield* orStorageError(
                storage.write([{ _tag: "Put", space: "meta", key: TSO_KEY, value: encodeU64(ceiling) }], { sync: true })
              )
            }
            // after a restart the first timestamps start at the saved ceiling
            logical += n
            yield* Ref.set(state, { physical, logical, ceiling })
            return composeTs(physical, logical) as Timestamp
          })
        )
    })
  })
)
