/**
 * Slow disks for the simulator: a store's engine whose every write (synced or not) first waits a number of
 * virtual milliseconds, read from a map the nemesis changes at run time. The raftstore writes in its round,
 * so a slow disk slows that store's whole round: its acknowledgements, its votes, its applies.
 *
 * A stall is the extreme case: every write waits until a virtual time the nemesis set, so the store's
 * RaftWorker stops in the middle of a round — no ticks, no steps, no replies — while messages and commands
 * pile up in its mailbox, as in a process paused by SIGSTOP or a disk that hangs for seconds. When it
 * resumes, it takes them all at once: a leader that was deposed meanwhile must not answer a read from its
 * own state (its read lease must have run out: `src/raftstore/readLease.ts`).
 */
import { Clock, Effect } from "effect"
import type { StoreId } from "../../protocol/ids.js"
import type { Storage } from "../../services/Storage.js"

/**
 * Wraps store `id`'s engine so each write takes `delays.get(id)` ms of virtual time first (none if 0), and
 * waits until `stalledUntil.get(id)` (virtual ms since the epoch) when that is later than now.
 */
export const slowDisk =
  (delays: ReadonlyMap<StoreId, number>, id: StoreId, stalledUntil: ReadonlyMap<StoreId, number> = new Map()) =>
  (storage: Storage["Type"]): Storage["Type"] => ({
    ...storage,
    write: (ops, options) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const ms = Math.max(delays.get(id) ?? 0, (stalledUntil.get(id) ?? 0) - now)
        return ms > 0
          ? Effect.zipRight(Effect.sleep(`${ms} millis`), storage.write(ops, options))
          : storage.write(ops, options)
      })
  })
