/** `tinykv playground` end to end: it serves, the CLI talks to it, and Ctrl-C leaves no process behind. */
import { processesWith } from "../support/processes.js"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { assertBuilt, freePortRun, startTinykv, stop, tinykv } from "../support/cli.js"

describe("tinykv playground", () => {
  it("starts a 3-store cluster, serves the CLI, and stops every child on SIGTERM", async () => {
    assertBuilt()
    const data = mkdtempSync(join(tmpdir(), "tinykv-playground-"))
    // one run of free ports for every listener: the stores' are base + i - 1, so probing each base alone let
    // a store's port collide with another listener's
    const first = await freePortRun(8)
    const schedulerPort = first
    const basePort = first + 1
    const statusPort = first + 4
    const statusBasePort = first + 5
    const scheduler = `127.0.0.1:${schedulerPort}`
    const pg = await startTinykv(
      [
        "playground",
        "--data",
        data,
        "--scheduler-port",
        String(schedulerPort),
        "--base-port",
        String(basePort),
        "--status-port",
        String(statusPort),
        "--status-base-port",
        String(statusBasePort)
      ],
      /playground is up/,
      60_000
    )
    try {
      assert.include(pg.output(), `scheduler  ${scheduler}`)
      // the dashboard's URL and each store's status listener are printed, and answer
      assert.include(pg.output(), `dashboard  http://127.0.0.1:${statusPort}/dashboard`)
      assert.include(pg.output(), `status http://127.0.0.1:${statusBasePort}`)
      assert.strictEqual((await fetch(`http://127.0.0.1:${statusPort}/dashboard`)).status, 200)
      assert.strictEqual((await fetch(`http://127.0.0.1:${statusBasePort}/health`)).status, 200)
      assert.deepInclude(await tinykv(["put", "k", "v", "--scheduler", scheduler]), { code: 0, stdout: "OK\n" })
      assert.deepInclude(await tinykv(["get", "k", "--scheduler", scheduler]), { code: 0, stdout: "v\n" })
      const txn = await tinykv(["txn", "put a 1; get a; commit", "--scheduler", scheduler])
      assert.strictEqual(txn.code, 0)
      assert.match(txn.stdout, /^1\nCOMMITTED \d+\n$/)
      assert.strictEqual(processesWith(data).length, 5) // the playground, the scheduler and 3 stores
    } finally {
      assert.strictEqual(await stop(pg.child), 0)
      rmSync(data, { recursive: true, force: true })
    }
    assert.deepStrictEqual(processesWith(data), [])
  }, 120_000)
})
