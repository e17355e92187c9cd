/** TinyKV project 4A: `MvccTxn` over a memory engine (`kv/transaction/mvcc/transaction_test.go`). */
import { assert, it } from "@effect/vitest"
import { type Timestamp, timestamp } from "../../src/protocol/ids.js"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import type { KvReader, Modify } from "../../src/services/KvStorage.js"
import { type Cf, CF_DEFAULT, CF_LOCK, CF_WRITE } from "../../src/services/Storage.js"
import { type Lock, lockToBytes } from "../../src/transaction/lock.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"
import { MvccTxn } from "../../src/transaction/mvccTxn.js"
import { WriteKind, writeToBytes } from "../../src/transaction/write.js"
import { bytes } from "./harness.js"

type Setup = (set: (cf: Cf, key: Uint8Array, value: Uint8Array) => void) => void

const testTxn = (startTs: number, setup?: Setup): MvccTxn => {
  const engine = new MemoryEngine()
  setup?.((cf, key, value) => engine.write([{ _tag: "Put", space: cf, key, value }]))
  const snap = engine.snapshot()
  const reader: KvReader = {
    getCF: (cf, k) => snap.get(cf, k),
    iterCF: (cf, start, end) => snap.scan(cf, { start, end })
  }
  return new MvccTxn(reader, timestamp(startTs))
}

/** The same snapshot read at another timestamp (TinyKV mutates `txn.StartTS`). */
const at = (txn: MvccTxn, startTs: number) => new MvccTxn(txn.reader, timestamp(startTs))

const assertSingle = (txn: MvccTxn, expected: Modify) => {
  assert.strictEqual(txn.writes.length, 1)
  assert.deepStrictEqual(txn.writes[0], expected)
}

const key = bytes([16, 240])
const ts = (n: number): Timestamp => timestamp(n)

const singleEntry: Setup = (set) => {
  set(CF_DEFAULT, encodeKey(key, 40n), bytes([1, 2, 3]))
  set(CF_WRITE, encodeKey(key, 42n), writeToBytes({ startTs: ts(40), kind: WriteKind.Put }))
}

const twoEntries: Setup = (set) => {
  singleEntry(set)
  set(CF_DEFAULT, encodeKey(key, 50n), bytes([255, 0, 255]))
  set(CF_WRITE, encodeKey(key, 52n), writeToBytes({ startTs: ts(50), kind: WriteKind.Put }))
}

const deleted: Setup = (set) => {
  singleEntry(set)
  set(CF_WRITE, encodeKey(key, 52n), writeToBytes({ startTs: ts(50), kind: WriteKind.Delete }))
}

const lock: Lock = { primary: bytes([16]), ts: ts(100), ttl: 100000, kind: WriteKind.Rollback }

it("TestPutLock4A", () => {
  const txn = testTxn(42)
  txn.putLock(bytes([1]), lock)
  assertSingle(txn, { _tag: "Put", cf: CF_LOCK, key: bytes([1]), value: lockToBytes(lock) })
})

it("TestPutWrite4A", () => {
  const txn = testTxn(0)
  const write = { startTs: ts(100), kind: WriteKind.Delete }
  txn.putWrite(key, 0n, write)
  assertSingle(txn, { _tag: "Put", cf: CF_WRITE, key: encodeKey(key, 0n), value: writeToBytes(write) })
})

it("TestPutValue4A", () => {
  const txn = testTxn(453325345)
  const value = bytes([1, 1, 2, 3, 5, 8, 13])
  txn.putValue(bytes([32]), value)
  assertSingle(txn, { _tag: "Put", cf: CF_DEFAULT, key: encodeKey(bytes([32]), 453325345n), value })
})

it("TestGetLock4A", () => {
  const txn = testTxn(42, (set) => set(CF_LOCK, bytes([1]), lockToBytes(lock)))
  assert.deepStrictEqual(txn.getLock(bytes([1])), lock)
  assert.isUndefined(txn.getLock(bytes([2])))
})

it("TestDeleteLock4A", () => {
  const txn = testTxn(42)
  txn.deleteLock(bytes([1]))
  assertSingle(txn, { _tag: "Delete", cf: CF_LOCK, key: bytes([1]) })
})

it("TestDeleteValue4A", () => {
  const txn = testTxn(63454245)
  txn.deleteValue(bytes([17, 255, 0]))
  assertSingle(txn, { _tag: "Delete", cf: CF_DEFAULT, key: encodeKey(bytes([17, 255, 0]), 63454245n) })
})

it("TestGetValueSimple4A", () => {
  assert.deepStrictEqual(testTxn(43, singleEntry).getValue(key), bytes([1, 2, 3]))
})

it("TestGetValueMissing4A", () => {
  assert.isUndefined(testTxn(43, singleEntry).getValue(bytes([16, 241])))
})

it("TestGetValueTooEarly4A", () => {
  assert.isUndefined(testTxn(41, singleEntry).getValue(key))
})

it("TestGetValueOverwritten4A", () => {
  assert.deepStrictEqual(testTxn(52, twoEntries).getValue(key), bytes([255, 0, 255]))
})

it("TestGetValueNotOverwritten4A", () => {
  assert.deepStrictEqual(testTxn(50, twoEntries).getValue(key), bytes([1, 2, 3]))
})

it("TestGetValueDeleted4A", () => {
  assert.isUndefined(testTxn(500, deleted).getValue(key))
})

it("TestGetValueNotDeleted4A", () => {
  assert.deepStrictEqual(testTxn(45, deleted).getValue(key), bytes([1, 2, 3]))
})

it("GetValue skips rollback records to older versions", () => {
  const txn = testTxn(60, (set) => {
    singleEntry(set)
    set(CF_WRITE, encodeKey(key, 55n), writeToBytes({ startTs: ts(55), kind: WriteKind.Rollback }))
  })
  assert.deepStrictEqual(txn.getValue(key), bytes([1, 2, 3]))
})

it("TestCurrentWrite4A", () => {
  const txn = testTxn(50, twoEntries)
  assert.deepStrictEqual(txn.currentWrite(key), { write: { startTs: ts(50), kind: WriteKind.Put }, commitTs: ts(52) })
  assert.deepStrictEqual(at(txn, 40).currentWrite(key), {
    write: { startTs: ts(40), kind: WriteKind.Put },
    commitTs: ts(42)
  })
  assert.isUndefined(at(txn, 41).currentWrite(key))
})

it("TestMostRecentWrite4A", () => {
  // empty DB
  assert.isUndefined(testTxn(50).mostRecentWrite(key))

  // simple case: the key exists
  const txn = testTxn(50, twoEntries)
  const newest = { write: { startTs: ts(50), kind: WriteKind.Put }, commitTs: ts(52) }
  assert.deepStrictEqual(txn.mostRecentWrite(key), newest)
  // no entry for other keys, even a prefix
  assert.isUndefined(txn.mostRecentWrite(bytes([16])))

  // a deleted key
  assert.deepStrictEqual(testTxn(50, deleted).mostRecentWrite(key), {
    write: { startTs: ts(50), kind: WriteKind.Delete },
    commitTs: ts(52)
  })

  // the result does not depend on the txn's timestamp
  assert.deepStrictEqual(testTxn(5000, twoEntries).mostRecentWrite(key), newest)
  assert.deepStrictEqual(testTxn(1, twoEntries).mostRecentWrite(key), newest)
})
