/**
 * The scheduler's dashboard in a real headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * playwright-core): the page loads from the status listener of a running cluster, shows its stores and
 * its region, and updates by itself after a write.
 */
import { type Browser, chromium } from "playwright-core"
import { Effect } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { connect, type KvConnection } from "../../src/client/promise.js"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt } from "../support/cli.js"
import { type ProcessCluster, startProcessCluster } from "../support/processCluster.js"

const CHROMIUM = "/usr/bin/chromium"

const until = (what: string, f: () => Promise<unknown>, ms: number) =>
  Effect.runPromise(eventually(Effect.tryPromise(f), { what, timeout: `${ms} millis`, interval: "100 millis" }))

describe("the dashboard in a headless browser", () => {
  let cluster: ProcessCluster
  let kv: KvConnection
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    cluster = await startProcessCluster({ stores: 3 })
    kv = await connect({ scheduler: cluster.scheduler, deadline: "20 seconds" })
    await until("the cluster to take a write", () => kv.put("warmup", "1"), 40_000)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await kv?.close()
    await cluster?.cleanup()
  })

  it("shows the stores and regions of the cluster, and updates after a write", async () => {
    const page = await browser.newPage()
    const errors: Array<string> = []
    page.on("pageerror", (e) => errors.push(e.message))
    const response = await page.goto(`http://${cluster.schedulerStatus}/dashboard?refresh=300`)
    assert.strictEqual(response?.status(), 200)
    assert.strictEqual(await page.title(), "TinyKV dashboard")

    // every store, with its address and state, and the one region with a peer on each store
    const storeRows = page.locator("#stores tbody tr")
    await storeRows.nth(2).waitFor({ timeout: 20_000 })
    const storesText = await storeRows.allInnerTexts()
    assert.strictEqual(storesText.length, 3)
    for (const s of cluster.stores) {
      assert.isTrue(
        storesText.some((row) => row.includes(s.address) && row.includes("Up")),
        `store ${s.id} (${s.address}) is not shown as Up in:\n${storesText.join("\n")}`
      )
    }
    await until(
      "the region map to show the region and its leader",
      async () => {
        const rows = await page.locator("#regions tbody tr").allInnerTexts()
        assert.strictEqual(rows.length, 1, rows.join("\n"))
        assert.match(rows[0]!, /−∞\s+\+∞/)
        for (const s of cluster.stores) assert.include(rows[0]!, `${s.id}:`)
        assert.match(rows[0]!, /\t[123]\t/, "a leader store is shown")
      },
      20_000
    )
    assert.match((await page.locator("#stores-up").textContent()) ?? "", /^3 \/ 3$/)

    // the page refreshes itself: the requests counter grows after writes made outside the page
    const served = async () => Number(await page.locator("#total-requests").textContent())
    await until(
      "the requests counter to show a number",
      async () => assert.isFalse(Number.isNaN(await served())),
      10_000
    )
    const before = await served()
    for (let i = 0; i < 5; i++) await kv.put(`dashboard-${i}`, "v")
    await until("the dashboard to count the writes", async () => assert.isAtLeast(await served(), before + 5), 20_000)
    assert.isNotEmpty(await page.locator("#ops-chart polyline").getAttribute("points"))
    assert.deepStrictEqual(errors, [])
    await page.close()
  })
})
