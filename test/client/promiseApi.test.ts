/**
 * The Promise client's additions against a standalone store over TCP: batch calls, range delete, the
 * scan as an AsyncIterable, `await using`, `layerConfig` from the environment, and errors whose
 * `message` says what happened.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { connect, connectWith, TinyKvClient } from "../../src/client/index.js"
import { KeyIsLocked, TxnAborted, WriteConflict } from "../../src/client/txnErrors.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { timestamp } from "../../src/protocol/ids.js"
import { RequestTimeout } from "../../src/rpc/errors.js"
import { startStandalone } from "../support/standalone.js"

const texts = (pairs: ReadonlyArray<{ key: Uint8Array; value: Uint8Array }>) =>
  pairs.map((p) => `${fromUtf8(p.key)}=${fromUtf8(p.value)}`)

describe("Promise client additions", () => {
  it.scopedLive("batchPut / batchGet / batchDelete / deleteRange / scanIterable", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      yield* Effect.promise(async () => {
        await using kv = await connect({ store: address })
        await kv.batchPut(
          Array.from({ length: 1500 }, (_, i) => ({ key: `n/${String(i).padStart(4, "0")}`, value: `${i}` }))
        )
        await kv.batchPut([
          { key: "a", value: "1" },
          { key: "tab\tkey", value: "line\nvalue" }
        ])
        assert.deepStrictEqual(texts(await kv.batchGet(["tab\tkey", "missing", "a"])), ["tab\tkey=line\nvalue", "a=1"])
        // the iterable pages past the 1000-pair page without a limit; breaking out stops it
        let n = 0
        for await (const p of kv.scanIterable("n/", { end: "n0" })) {
          assert.isTrue(fromUtf8(p.key).startsWith("n/"))
          n++
        }
        assert.strictEqual(n, 1500)
        const firstTwo: Array<string> = []
        for await (const p of kv.scanIterable("", { limit: 10 })) {
          firstTwo.push(fromUtf8(p.key))
          if (firstTwo.length === 2) break
        }
        assert.deepStrictEqual(firstTwo, ["a", "n/0000"])
        assert.strictEqual(await kv.deleteRange("n/", { end: "n0" }), 1500)
        await kv.batchDelete(["a"])
        assert.deepStrictEqual(texts(await kv.scan("")), ["tab\tkey=line\nvalue"])
      })
    })
  )

  it.scopedLive("TinyKvClient.layerConfig reads TINYKV_STORE from the environment", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      const layer = TinyKvClient.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["TINYKV_STORE", address]]))))
      )
      yield* Effect.promise(async () => {
        const kv = await connectWith(layer)
        await kv.put("from-config", "yes")
        assert.strictEqual(await kv.getString("from-config"), "yes")
        await kv[Symbol.asyncDispose]()
      })
    })
  )

  it("the transaction and timeout errors say what happened in .message", () => {
    const key = utf8("acct/1")
    const conflict = new WriteConflict({ key, startTs: timestamp(10n), conflictTs: timestamp(12n), primary: key })
    assert.include(conflict.message, 'write conflict on key "acct/1"')
    assert.include(conflict.message, "12")
    const locked = new KeyIsLocked({ lock: { key, primaryLock: key, lockVersion: timestamp(7n), lockTtl: 3000 } })
    assert.include(locked.message, 'key "acct/1" is locked')
    const aborted = new TxnAborted({ startTs: timestamp(5n), reason: "rolled back by another client" })
    assert.include(aborted.message, "aborted (rolled back by another client)")
    const timeout = new RequestTimeout({ address: "127.0.0.1:1", method: "RawGet", timeoutMs: 2000 })
    assert.strictEqual(timeout.message, "RawGet to 127.0.0.1:1 timed out after 2000 ms")
    for (const e of [conflict, locked, aborted, timeout]) assert.isAbove(String(e).length, e._tag.length + 10)
  })
})
