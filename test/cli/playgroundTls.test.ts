/**
 * `tinykv playground --tls` end to end: it makes its certificates with openssl, prints the flags a
 * client needs, and `put`/`get` work with exactly those flags (or their environment variables) and
 * are refused without them.
 */
import { processesWith } from "../support/processes.js"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { assertBuilt, freePort, startTinykv, stop, tinykv } from "../support/cli.js"

describe("tinykv playground --tls", () => {
  it("serves put/get only to a client with the printed certificate flags", async () => {
    assertBuilt()
    const data = mkdtempSync(join(tmpdir(), "tinykv-playground-tls-"))
    const schedulerPort = await freePort()
    const basePort = await freePort()
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
        String(basePort)
      ],
      /playground is up[\s\S]*stop with Ctrl-C/,
      90_000
    )
    try {
      const printed = /npx tinykv put hello world (--tls-ca \S+ --tls-cert \S+ --tls-key \S+)/.exec(pg.output())
      assert.isNotNull(printed, pg.output())
      const flags = printed![1]!.split(" ")
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
