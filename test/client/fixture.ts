/** A standalone store on a loopback port with a typed client, plus the raw hooks the tests poke at. */
import { Context, Effect, Layer } from "effect"
import { connectStore } from "../../src/rpc/storeConnection.js"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { txnRpcBackend } from "../../src/client/txnRpcBackend.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { Timestamp } from "../../src/protocol/ids.js"
import { startStandalone } from "../support/standalone.js"

/** Starts a store (memory engine) for the scope; `client()` opens one more connection to it. */
export const withStore = Effect.gen(function* () {
  const { address } = yield* startStandalone()
  const client = () => Effect.map(Layer.build(TinyKvClient.layer({ store: address })), Context.get(TinyKvClient))
  const kv = yield* client()
  // the protocol-level backend, to play a transaction that crashes half-way through
  const backend = txnRpcBackend(yield* connectStore(address))
  /**
   * The keys holding a lock right now: a transactional scan at the newest timestamp reports every lock
   * (raw reads cannot: the lock column family of the raw key space holds raw data only).
   */
  const lockedKeys = Effect.gen(function* () {
    const resp = yield* backend.KvScan({ startKey: new Uint8Array(), limit: 10_000, version: yield* backend.tso })
    return resp.pairs.filter((p) => p.error?.locked !== undefined).map((p) => fromUtf8(p.key))
  })
  /** Prewrites `kvs` (the first key is the primary) as a transaction at a fresh timestamp, then stops. */
  const prewriteOnly = (kvs: ReadonlyArray<readonly [string, string]>, lockTtl: number) =>
    Effect.gen(function* () {
      const startVersion = yield* backend.tso
      const mutations = kvs.map(([k, v]) => ({ op: "Put" as const, key: utf8(k), value: utf8(v) }))
      const resp = yield* backend.KvPrewrite({ mutations, primaryLock: mutations[0]!.key, startVersion, lockTtl })
      if (resp.errors.length > 0) return yield* Effect.die(`prewrite failed: ${JSON.stringify(resp.errors)}`)
      return startVersion
    })
  /** Commits `keys` of the transaction that started at `startVersion`, at a fresh timestamp. */
  const commitOnly = (startVersion: Timestamp, keys: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const commitVersion = yield* backend.tso
      const resp = yield* backend.KvCommit({ startVersion, keys: keys.map(utf8), commitVersion })
      if (resp.error !== undefined) return yield* Effect.die(`commit failed: ${JSON.stringify(resp.error)}`)
      return commitVersion
    })
  return { address, kv, client, backend, lockedKeys, prewriteOnly, commitOnly }
})
