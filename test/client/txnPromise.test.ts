/** The Promise facade's transactions (`kv.begin()`, `kv.transact(async (txn) => …)`) over TCP. */
import { Effect, Exit, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { connect, type KvConnection } from "../../src/client/promise.js"
import { isRetryable, WriteConflict } from "../../src/client/txnErrors.js"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import { startStandalone } from "../support/standalone.js"

describe("Promise facade transactions", () => {
  const scope = Effect.runSync(Scope.make())
  let kv: KvConnection
  let other: KvConnection

  beforeAll(async () => {
    const { address } = await Effect.runPromise(Scope.extend(startStandalone(), scope))
    kv = await connect({ store: address })
    other = await connect({ store: address })
  })
  afterAll(async () => {
    await kv?.close()
    await other?.close()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("begin, read-your-writes, scan with end and limit, commit", async () => {
    const txn = await kv.begin()
    assert.strictEqual(typeof txn.startTs, "bigint")
    await txn.set("p-a", "1")
    await txn.set("p-b", new Uint8Array([0x32]))
    await txn.set("p-c", "3")
    await txn.set("q", "outside")
    await txn.delete("p-c")
    assert.strictEqual(await txn.getString("p-a"), "1")
    assert.isUndefined(await txn.get("p-c"))
    assert.deepStrictEqual(
      (await txn.scan("p-", { end: "p-z" })).map((p) => fromUtf8(p.key)),
      ["p-a", "p-b"]
    )
    assert.deepStrictEqual(
      (await txn.scan("p-", { limit: 1 })).map((p) => fromUtf8(p.key)),
      ["p-a"]
    )
    // not visible to anyone else yet
    assert.isUndefined(await (await other.begin()).getString("p-a"))
    const commitTs = await txn.commit()
    assert.isTrue(commitTs !== undefined && commitTs > txn.startTs)
    const after = await other.begin()
    assert.strictEqual(await after.getString("p-b"), "2")
    assert.isUndefined(await after.commit())
    // a finished transaction refuses more work
    const late = await txn.set("p-a", "late").then(
      () => undefined,
      (e: { _tag?: string }) => e
    )
    assert.strictEqual(late?._tag, "TxnAborted")
  })

  it("rollback discards the writes", async () => {
    const txn = await kv.begin()
    await txn.set("rolled", "x")
    await txn.rollback()
    await txn.rollback()
    assert.isUndefined(await (await kv.begin()).getString("rolled"))
  })

  it("a conflicting commit rejects with WriteConflict", async () => {
    const a = await kv.begin()
    const b = await other.begin()
    await a.set("w", "a")
    await b.set("w", "b")
    await a.commit()
    const e = await b.commit().catch((err: unknown) => err)
    assert.instanceOf(e, WriteConflict)
    assert.strictEqual(isRetryable(e), true)
    assert.strictEqual(await (await kv.begin()).getString("w"), "a")
  })

  it("transact retries on conflict and returns the body's result", async () => {
    await kv.transact((t) => t.set("count", "0"))
    let attempts = 0
    const result = await kv.transact(async (t) => {
      attempts++
      const n = Number(await t.getString("count"))
      if (attempts === 1) await other.transact((o) => o.set("count", String(n + 10)))
      await t.set("count", String(n + 1))
      return n + 1
    })
    assert.strictEqual(attempts, 2)
    assert.strictEqual(result, 11)
    assert.strictEqual(await (await kv.begin()).getString("count"), "11")
  })

  it("concurrent transact increments all land", async () => {
    await kv.transact((t) => t.set("inc", "0"))
    const conns = [kv, other]
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        conns[i % 2]!.transact(
          async (t) => {
            const n = Number(await t.getString("inc"))
            await t.set("inc", String(n + 1))
          },
          { retries: 50 }
        )
      )
    )
    assert.strictEqual(await (await kv.begin()).getString("inc"), "10")
  })

  it("transact rethrows what the body throws, rolled back; a body that commits itself is not committed twice", async () => {
    const thrown = await kv
      .transact(async (t) => {
        await t.set("never", "x")
        throw new Error("insufficient funds")
      })
      .then(
        () => undefined,
        (e: unknown) => e
      )
    assert.instanceOf(thrown, Error)
    assert.strictEqual((thrown as Error).message, "insufficient funds")
    assert.isUndefined(await (await kv.begin()).getString("never"))

    let attempts = 0
    const ts = await kv.transact(async (t) => {
      attempts++
      await t.set("self", "committed")
      return t.commit()
    })
    assert.strictEqual(attempts, 1)
    assert.isTrue(ts !== undefined && ts > 0n)
    assert.strictEqual(await (await kv.begin()).getString("self"), "committed")
  })
})
