/**
 * Slow disks for the simulator: a store's engine whose every write (synced or not) first waits a number of
 * virtual milliseconds, read from a map the nemesis changes at run time. The raftstore writes in its round,
 * so a slow disk slows that store's whole round: its acknowledgements, its votes, its applies.
 */
import { Effect } from "effect"
import type { StoreId } from "../../protocol/ids.js"
import type { Storage } from "../../services/Storage.js"

/** Wraps store `id`'s engine so each write takes `delays.get(id)` ms of virtual time first (none if 0). */
export const slowDisk =
  (delays: ReadonlyMap<StoreId, number>, id: StoreId) =>
  (storage: Storage["Type"]): Storage["Type"] => ({
    ...storage,
    write: (ops, options) => {
      const ms = delays.get(id) ?? 0
      return ms > 0
        ? Effect.zipRight(Effect.sleep(`${ms} millis`), storage.write(ops, options))
        : storage.write(ops, options)
    }
  })
