/** `tinykv ctl health` against a real cluster of processes: exit 0 while all is well, 1 once a store is gone. */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt, freePort, tinykv } from "../support/cli.js"
import { type ProcessCluster, startProcessCluster } from "../support/processCluster.js"

const T = 120_000

describe("tinykv ctl health", { timeout: T }, () => {
  let cluster: ProcessCluster | undefined

  beforeAll(async () => {
    assertBuilt()
    cluster = await startProcessCluster({ stores: 3 })
  }, T)
  afterAll(async () => {
    await cluster?.cleanup()
  }, T)

  const health = (...args: ReadonlyArray<string>) =>
    tinykv(["ctl", "health", "--scheduler", cluster!.scheduler, ...args], { timeoutMs: T })

  it("exit 0 once every store answers and every region has a leader; JSON says the same", async () => {
    // the cluster elects its first leader on its own: wait for it, with a deadline
    const r = await Effect.runPromise(
      eventually(
        Effect.promise(() => health()).pipe(
          Effect.filterOrFail(
            (x) => x.code === 0,
            (x) => new Error(x.stdout + x.stderr)
          )
        ),
        { what: "a healthy cluster", timeout: "60 seconds", interval: "200 millis" }
      )
    )
    assert.include(r.stdout, "healthy")
    assert.match(r.stdout, /regions: \d+, each with a leader/)
    const doc = JSON.parse((await health("-w", "json")).stdout)
    assert.strictEqual(doc.healthy, true)
    assert.strictEqual(doc.stores.length, 3)
    assert.isTrue(doc.stores.every((s: { reachable: boolean }) => s.reachable))
  })

  it("exit 1 naming the store that does not answer", async () => {
    await cluster!.killStore(3)
    const r = await health()
    assert.strictEqual(r.code, 1, r.stdout)
    assert.include(r.stdout, "UNHEALTHY")
    assert.match(r.stdout, /^3\s+\S+\s+\S+\s+no \(/m)
  })

  it("exit 1 when the scheduler cannot be reached", async () => {
    const r = await tinykv(["ctl", "health", "--scheduler", `127.0.0.1:${await freePort()}`], { timeoutMs: T })
    assert.strictEqual(r.code, 1)
    assert.match(r.stdout, /scheduler .*: FAILED/)
  })
})
