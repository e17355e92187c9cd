/**
 * Meeting another transaction's lock: find out its fate from its primary key and finish it
 * (Percolator's "roll forward or roll back"), or report that it is still alive.
 *
 * A lock only points at the primary; the primary alone records whether the transaction committed.
 * `KvCheckTxnStatus` on the primary answers committed (at some ts), rolled back, or alive — and
 * rolls the primary back itself when the lock's TTL ran out. A decided transaction's leftover locks
 * are then committed or rolled back with `KvResolveLock`, once per region.
 */
import { Effect } from "effect"
import { toLatin1 } from "../protocol/bytes.js"
import type { LockInfo } from "../protocol/kvrpc.js"
import { type Timestamp, timestamp } from "../protocol/ids.js"
import type { TxnBackend } from "./txnBackend.js"

type Fate = { readonly _tag: "Alive" } | { readonly _tag: "Decided"; readonly commitTs: Timestamp }

/** Resolves what can be resolved; true when none of `locks` belongs to a still-running transaction. */
export const resolveLocks = <E>(backend: TxnBackend<E>, locks: ReadonlyArray<LockInfo>): Effect.Effect<boolean, E> =>
  Effect.gen(function* () {
    // group by transaction: one status check per transaction, one resolve per (transaction, region)
    const byTxn = new Map<bigint, { primary: Uint8Array; keys: Map<string, Uint8Array> }>()
    for (const l of locks) {
      const t = byTxn.get(l.lockVersion) ?? { primary: l.primaryLock, keys: new Map() }
      t.keys.set(toLatin1(l.key), l.key)
      byTxn.set(l.lockVersion, t)
    }
    let clear = true
    for (const [lockTs, { primary, keys }] of byTxn) {
      const currentTs = yield* backend.tso
      const status = yield* backend.KvCheckTxnStatus({ primaryKey: primary, lockTs: timestamp(lockTs), currentTs })
      const fate: Fate =
        status.commitVersion > 0n
          ? { _tag: "Decided", commitTs: status.commitVersion }
          : status.lockTtl > 0
            ? { _tag: "Alive" }
            : { _tag: "Decided", commitTs: timestamp(0) } // rolled back (now or earlier)
      if (fate._tag === "Alive") {
        clear = false
        continue
      }
      const groups = yield* backend.groupByRegion([...keys.values()])
      for (const g of groups) {
        const regionKey = g[0]
        if (regionKey === undefined) continue
        const r = yield* backend.KvResolveLock(
          { startVersion: timestamp(lockTs), commitVersion: fate.commitTs },
          regionKey
        )
        // a resolve that fails leaves the lock; the caller's next attempt meets it again
        if (r.error !== undefined) clear = false
      }
    }
    return clear
  })
