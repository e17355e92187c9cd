/**
 * `tinykv playground --tls` end to end: it makes its certificates with openssl, prints the flags a
 * client needs, and `put`/`get`/`ctl health` work with exactly those flags (or their environment
 * variables) and are refused without them; the status listeners are HTTPS, read with the printed
 * `curl` line's files.
 */
import { processesWith } from "../support/processes.js"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as https from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { assertBuilt, freePortRun, startTinykv, stop, tinykv } from "../support/cli.js"

/** An HTTPS GET with the given files; its status code and body. */
const httpsGet = (url: string, files: { ca: string; cert: string; key: string }) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = https.get(
      url,
      {
        agent: false,
        ca: readFileSync(files.ca),
        cert: readFileSync(files.cert),
        key: readFileSync(files.key)
      },
      (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (d) => (body += d))
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
      }
    )
    request.on("error", reject)
  })

describe("tinykv playground --tls", () => {
  it("serves put/get only to a client with the printed certificate flags", async () => {
    assertBuilt()
    const data = mkdtempSync(join(tmpdir(), "tinykv-playground-tls-"))
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
        "--tls",
        "--stores",
        "1",
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
      /playground is up[\s\S]*stop with Ctrl-C/,
      90_000
    )
    try {
      const printed = /npx tinykv put hello world --scheduler (\S+) (--tls-ca \S+ --tls-cert \S+ --tls-key \S+)/.exec(
        pg.output()
      )
      assert.isNotNull(printed, pg.output())
      assert.strictEqual(printed![1], scheduler)
      const flags = printed![2]!.split(" ")
      assert.deepStrictEqual(flags, [
        "--tls-ca",
        join(data, "tls", "ca.crt"),
        "--tls-cert",
        join(data, "tls", "client.crt"),
        "--tls-key",
        join(data, "tls", "client.key")
      ])
      const target = ["--scheduler", scheduler]
      assert.deepInclude(await tinykv(["put", "hello", "world", ...target, ...flags]), { code: 0, stdout: "OK\n" })
      assert.deepInclude(await tinykv(["get", "hello", ...target, ...flags]), { code: 0, stdout: "world\n" })
      const health = await tinykv(["ctl", "health", ...target, ...flags])
      assert.strictEqual(health.code, 0, health.stdout + health.stderr)
      assert.match(health.stdout, /^healthy$/m)
      assert.strictEqual((await tinykv(["ctl", "health", ...target])).code, 1)

      // the status listeners: HTTPS, read with the files of the printed curl line
      const curl = /curl --cacert (\S+) --cert (\S+) --key (\S+) (https:\/\/\S+\/metrics)/.exec(pg.output())
      assert.isNotNull(curl, pg.output())
      assert.strictEqual(curl![4], `https://127.0.0.1:${statusPort}/metrics`)
      const files = { ca: curl![1]!, cert: curl![2]!, key: curl![3]! }
      const metrics = await httpsGet(curl![4]!, files)
      assert.strictEqual(metrics.status, 200)
      assert.include(metrics.body, "# TYPE")
      const storeHealth = await httpsGet(`https://127.0.0.1:${statusBasePort}/health`, files)
      assert.deepStrictEqual(JSON.parse(storeHealth.body), { status: "ok", service: "store" })
      const plainStatus = await fetch(`http://127.0.0.1:${statusPort}/metrics`)
      assert.strictEqual(plainStatus.status, 400)

      const env = { TINYKV_TLS_CA: flags[1]!, TINYKV_TLS_CERT: flags[3]!, TINYKV_TLS_KEY: flags[5]! }
      assert.deepInclude(await tinykv(["get", "hello", ...target], { env }), { code: 0, stdout: "world\n" })

      const plain = await tinykv(["get", "hello", ...target])
      assert.strictEqual(plain.code, 1)
      assert.match(plain.stderr, /this port requires TLS/)
      const partial = await tinykv(["get", "hello", ...target, ...flags.slice(0, 4)])
      assert.strictEqual(partial.code, 1)
      assert.match(partial.stderr, /needs all three of --tls-ca, --tls-cert and --tls-key/)
    } finally {
      assert.strictEqual(await stop(pg.child), 0)
      rmSync(data, { recursive: true, force: true })
    }
    // the stop reached every child
    assert.deepStrictEqual(processesWith(data), [])
  }, 180_000)
})
