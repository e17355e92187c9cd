/**
 * What a bank test needs to explain a wrong total: the transfers the clients committed (start and commit
 * ts, accounts, amount), checked against the accounts' MVCC histories read from every store's engine. A
 * committed transfer must have written both of its accounts at its commit ts; `explain` names those with
 * one half missing, the committed versions no recorded transfer wrote, and the locks each store holds.
 */
import { Effect } from "effect"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { localKeyOf, physicalOfLocal } from "../../src/protocol/keyspace.js"
import { Storage } from "../../src/services/Storage.js"
import type { TestCluster } from "../../src/testing/TestCluster.js"
import { parseLock } from "../../src/transaction/lock.js"
import { decodeTimestamp, decodeUserKey } from "../../src/transaction/mvccKey.js"
import { parseWrite, WriteKind } from "../../src/transaction/write.js"

export interface Transfer {
  readonly from: number
  readonly to: number
  readonly amount: number
  readonly startTs: bigint
  readonly commitTs: bigint
}

const everything = physicalOfLocal("txn", { start: new Uint8Array(0), end: new Uint8Array(0) })

/** Store `id`'s committed (non-rollback) versions per user key, as commit ts → start ts, and its locks. */
const storeHistory = (cluster: TestCluster, id: StoreId) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const versions = new Map<string, Map<bigint, bigint>>()
    for (const kv of yield* storage.scan("write", everything)) {
      const write = parseWrite(kv.value)
      if (write.kind === WriteKind.Rollback) continue
      const local = localKeyOf(kv.key)
      const key = fromUtf8(decodeUserKey(local))
      const ofKey = versions.get(key) ?? new Map<bigint, bigint>()
      ofKey.set(decodeTimestamp(local), write.startTs)
      versions.set(key, ofKey)
    }
    const locks = (yield* storage.scan("lock", everything)).map((kv) => {
      const lock = parseLock(kv.value)
      return `${fromUtf8(localKeyOf(kv.key))} by ${lock.ts} (primary ${fromUtf8(lock.primary)})`
    })
    return { versions, locks }
  }).pipe(Effect.provide(cluster.storageLayer(id)), Effect.scoped, Effect.orDie)

/** The transaction locks every store's engine holds, one line per store holding any. */
export const locksHeld = (cluster: TestCluster): Effect.Effect<ReadonlyArray<string>> =>
  Effect.map(
    Effect.forEach(cluster.storeIds, (id) =>
      Effect.map(storeHistory(cluster, id), ({ locks }) =>
        locks.length > 0 ? [`store ${id}: ${locks.join("; ")}`] : []
      )
    ),
    (perStore) => perStore.flat()
  )

/** A report for a failure message; `name(i)` is account `i`'s key as text. */
export const explain = (
  cluster: TestCluster,
  transfers: ReadonlyArray<Transfer>,
  name: (i: number) => string
): Effect.Effect<string> =>
  Effect.gen(function* () {
    const lines: Array<string> = [`${transfers.length} transfers recorded`]
    // what any store holds: a replica may lag, but none may miss what another holds once all caught up
    const versions = new Map<string, Map<bigint, bigint>>()
    for (const id of cluster.storeIds) {
      const held = yield* storeHistory(cluster, id)
      for (const [key, ofKey] of held.versions) {
        const all = versions.get(key) ?? new Map<bigint, bigint>()
        for (const [commitTs, startTs] of ofKey) all.set(commitTs, startTs)
        versions.set(key, all)
      }
      if (held.locks.length > 0) lines.push(`store ${id} holds locks: ${held.locks.join("; ")}`)
    }
    const wrote = (i: number, t: Transfer) => versions.get(name(i))?.get(t.commitTs) === t.startTs
    const known = new Set<string>()
    for (const t of transfers) {
      known.add(`${name(t.from)}@${t.commitTs}`).add(`${name(t.to)}@${t.commitTs}`)
      const debit = wrote(t.from, t)
      const credit = wrote(t.to, t)
      if (debit !== credit) {
        lines.push(
          `transfer ${t.from}->${t.to} of ${t.amount} (start ${t.startTs}, commit ${t.commitTs}): ` +
            `${debit ? "debit" : "credit"} committed, ${debit ? "credit" : "debit"} missing`
        )
      }
    }
    // the first commit is the accounts' opening; a transfer still committing its secondaries is not recorded yet
    let first: bigint | undefined
    for (const ofKey of versions.values()) for (const c of ofKey.keys()) if (first === undefined || c < first) first = c
    for (const [key, ofKey] of versions) {
      for (const [commitTs, startTs] of ofKey) {
        if (commitTs !== first && !known.has(`${key}@${commitTs}`)) {
          lines.push(`${key}: a version no transfer recorded so far wrote (start ${startTs}, commit ${commitTs})`)
        }
      }
    }
    return lines.join("\n")
  })
