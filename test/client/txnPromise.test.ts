/** The Promise facade's transactions (`kv.begin()`, `kv.transact(async (txn) => …)`) over TCP. */
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
    expect(typeof txn.startTs).toBe("bigint")
    await txn.set("p-a", "1")
    await txn.set("p-b", new Uint8Array([0x32]))
    await txn.set("p-c", "3")
    await txn.set("q", "outside")
    await txn.delete("p-c")
    expect(await txn.getString("p-a")).toBe("1")
    expect(await txn.get("p-c")).toBeUndefined()
    expect((await txn.scan("p-", { end: "p-z" })).map((p) => fromUtf8(p.key))).toEqual(["p-a", "p-b"])
    expect((await txn.scan("p-", { limit: 1 })).map((p) => fromUtf8(p.key))).toEqual(["p-a"])
    // not visible to anyone else yet
    expect(await (await other.begin()).getString("p-a")).toBeUndefined()
    const commitTs = await txn.commit()
    expect(commitTs).toBeGreaterThan(txn.startTs)
    const after = await other.begin()
    expect(await after.getString("p-b")).toBe("2")
    expect(await after.commit()).toBeUndefined()
    // a finished transaction refuses more work
    await expect(txn.set("p-a", "late")).rejects.toMatchObject({ _tag: "TxnAborted" })
  })

  it("rollback discards the writes", async () => {
    const txn = await kv.begin()
    await txn.set("rolled", "x")
    await txn.rollback()
    await txn.rollback()
    expect(await (await kv.begin()).getString("rolled")).toBeUndefined()
  })

  it("a conflicting commit rejects with WriteConflict", async () => {
    const a = await kv.begin()
    const b = await other.begin()
    await a.set("w", "a")
    await b.set("w", "b")
    await a.commit()
    const e = await b.commit().catch((err: unknown) => err)
    expect(e).toBeInstanceOf(WriteConflict)
    expect(isRetryable(e)).toBe(true)
    expect(await (await kv.begin()).getString("w")).toBe("a")
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
    expect(attempts).toBe(2)
    expect(result).toBe(11)
    expect(await (await kv.begin()).getString("count")).toBe("11")
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
    expect(await (await kv.begin()).getString("inc")).toBe("10")
  })

  it("transact rethrows what the body throws, rolled back; a body that commits itself is not committed twice", async () => {
    await expect(
      kv.transact(async (t) => {
        await t.set("never", "x")
        throw new Error("insufficient funds")
      })
    ).rejects.toThrow("insufficient funds")
    expect(await (await kv.begin()).getString("never")).toBeUndefined()

    let attempts = 0
    const ts = await kv.transact(async (t) => {
      attempts++
      await t.set("self", "committed")
      return t.commit()
    })
    expect(attempts).toBe(1)
    expect(ts).toBeGreaterThan(0n)
    expect(await (await kv.begin()).getString("self")).toBe("committed")
  })
})
