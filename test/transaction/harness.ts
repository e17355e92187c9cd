/**
 * The TinyKV command-test harness (`kv/transaction/commands_test.go` testBuilder), over our
 * handlers on a memory engine. Latch validation is on: every handler write must touch a latched
 * key, or the handler dies.
 *
 * Timestamps follow TinyKV: `prevTs` starts at 99, each request builder takes `nextTs()`, and a
 * `ts` of 0 in `init`/`expect` means "the latest timestamp".
 */
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { bytesEqual, toHex } from "../../src/protocol/bytes.js"
import { type Timestamp, timestamp } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type * as Kv from "../../src/protocol/kvrpc.js"
import { layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { type Cf, CF_DEFAULT, CF_LOCK, CF_WRITE } from "../../src/services/Storage.js"
import { makeTxnHandlersWith, type TxnHandlers } from "../../src/transaction/handlers.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"

export interface KvSpec {
  readonly cf: Cf
  readonly key: ReadonlyArray<number>
  /** 0 or absent: the builder's latest timestamp (ignored for the lock CF). */
  readonly ts?: bigint | number
  /** In `expect`, absent means "unchanged since init". */
  readonly value?: ReadonlyArray<number>
}

export const bytes = (xs: ReadonlyArray<number>): Uint8Array => new Uint8Array(xs)

/** BigEndian.Uint64 of 8 bytes. */
export const be64 = (xs: ReadonlyArray<number>): Timestamp => timestamp(new DataView(bytes(xs).buffer).getBigUint64(0))

export const mutation = (key: number, value: ReadonlyArray<number> | undefined, op: Kv.Op): Kv.Mutation => ({
  op,
  key: bytes([key]),
  value: bytes(value ?? [])
})

export class Builder {
  prevTs = 99n
  private initial = new Map<string, Uint8Array>()

  constructor(
    readonly engine: MemoryEngine,
    readonly handlers: TxnHandlers
  ) {}

  nextTs(): Timestamp {
    this.prevTs += 1n
    return timestamp(this.prevTs)
  }

  /** The latest timestamp as one byte (TinyKV `builder.ts()`). */
  ts(): number {
    return Number(this.prevTs & 0xffn)
  }

  private storedKey(kv: KvSpec): Uint8Array {
    const ts = kv.ts === undefined || BigInt(kv.ts) === 0n ? this.prevTs : BigInt(kv.ts)
    // the engine key: in the transactional key space
    return physicalKey("txn", kv.cf === CF_LOCK ? bytes(kv.key) : encodeKey(bytes(kv.key), ts))
  }

  init(kvs: ReadonlyArray<KvSpec>): void {
    for (const kv of kvs) {
      const key = this.storedKey(kv)
      const value = bytes(kv.value ?? [])
      this.engine.write([{ _tag: "Put", space: kv.cf, key, value }])
      this.initial.set(`${kv.cf}/${toHex(key)}`, value)
    }
  }

  /** Each pair has the given value, or (value absent) still holds exactly what `init` put there. */
  expect(kvs: ReadonlyArray<KvSpec>): void {
    for (const kv of kvs) {
      const key = this.storedKey(kv)
      const got = this.engine.get(kv.cf, key)
      const want = kv.value === undefined ? this.initial.get(`${kv.cf}/${toHex(key)}`) : bytes(kv.value)
      assert.isDefined(want, `${kv.cf} ${toHex(key)} was not set by init`)
      assert.isDefined(got, `${kv.cf} ${toHex(key)} is missing`)
      assert.isTrue(bytesEqual(got!, want!), `${kv.cf} ${toHex(key)}: got ${toHex(got!)}, want ${toHex(want!)}`)
    }
  }

  len(cf: Cf): number {
    return Array.from(this.engine.scan(cf)).length
  }

  expectLens(def: number, lock: number, write: number): void {
    assert.deepStrictEqual([this.len(CF_DEFAULT), this.len(CF_LOCK), this.len(CF_WRITE)], [def, lock, write])
  }

  prewriteRequest(...mutations: ReadonlyArray<Kv.Mutation>): Kv.PrewriteRequest {
    return { mutations, primaryLock: bytes([1]), startVersion: this.nextTs(), lockTtl: 0 }
  }

  commitRequest(...keys: ReadonlyArray<ReadonlyArray<number>>): Kv.CommitRequest {
    const startVersion = this.nextTs()
    return { startVersion, keys: keys.map(bytes), commitVersion: timestamp(this.prevTs + 10n) }
  }

  rollbackRequest(...keys: ReadonlyArray<ReadonlyArray<number>>): Kv.BatchRollbackRequest {
    return { startVersion: this.nextTs(), keys: keys.map(bytes) }
  }

  checkTxnStatusRequest(key: ReadonlyArray<number>): Kv.CheckTxnStatusRequest {
    this.nextTs()
    const t = this.ts()
    return { primaryKey: bytes(key), lockTs: be64([0, 0, 5, 0, 0, 0, 0, t]), currentTs: be64([0, 0, 6, 0, 0, 0, 0, t]) }
  }

  scanRequest(startKey: ReadonlyArray<number>, limit: number): Kv.ScanRequest {
    return { startKey: bytes(startKey), limit, version: this.nextTs() }
  }
}

export const resolveRequest = (startTs: number, commitTs: number): Kv.ResolveLockRequest => ({
  startVersion: timestamp(startTs),
  commitVersion: timestamp(commitTs)
})

export const getRequest = (key: ReadonlyArray<number>, version: bigint | number): Kv.GetRequest => ({
  key: bytes(key),
  version: timestamp(version)
})

/** A fresh builder: an empty memory engine and latch-validating handlers over it. */
export const makeBuilder: Effect.Effect<Builder> = Effect.suspend(() => {
  const engine = new MemoryEngine()
  const storage = layerStandalone.pipe(Layer.provide(layerMemoryFrom(engine)))
  return makeTxnHandlersWith({ validateLatches: true }).pipe(
    Effect.map((handlers) => new Builder(engine, handlers)),
    Effect.provide(storage)
  )
})

/** Runs a handler and fails the test on any error in the error channel (TinyKV: "gRPC error must be nil"). */
export const ok = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A> =>
  Effect.catchAll(effect, (e) => Effect.die(new Error(`handler failed: ${JSON.stringify(e)}`)))
