/** The `tinykv` command end to end against a standalone server process. */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { assertBuilt, freePort, startTinykv, stop, tinykv } from "../support/cli.js"

describe("tinykv CLI against a standalone server", () => {
  const data = mkdtempSync(join(tmpdir(), "tinykv-cli-"))
  let store = ""
  let server: Awaited<ReturnType<typeof startTinykv>>

  beforeAll(async () => {
    assertBuilt()
    store = `127.0.0.1:${await freePort()}`
    server = await startTinykv(["server", "--standalone", "--addr", store, "--data", data], /listening/)
  })
  afterAll(async () => {
    if (server) await stop(server.child)
  })

  it("put then get prints the value; delete makes get fail with exit 1", async () => {
    assert.deepInclude(await tinykv(["put", "hello", "world", "--store", store]), { code: 0, stdout: "OK\n" })
    assert.deepInclude(await tinykv(["get", "hello", "--store", store]), { code: 0, stdout: "world\n" })
    assert.strictEqual((await tinykv(["delete", "hello", "--store", store])).code, 0)
    const missing = await tinykv(["get", "hello", "--store", store])
    assert.strictEqual(missing.code, 1)
    assert.include(missing.stderr, 'key "hello" not found')
  })

  it("scan prints KEY<TAB>VALUE lines in key order, with --end and --limit", async () => {
    for (const k of ["s1", "s2", "s3", "t1"])
      assert.strictEqual((await tinykv(["put", k, k.toUpperCase(), "--store", store])).code, 0)
    assert.strictEqual((await tinykv(["scan", "s", "--end", "t", "--store", store])).stdout, "s1\tS1\ns2\tS2\ns3\tS3\n")
    assert.strictEqual((await tinykv(["scan", "s", "--limit", "2", "--store", store])).stdout, "s1\tS1\ns2\tS2\n")
  })

  it("--cf and --hex address other column families and binary keys", async () => {
    assert.strictEqual((await tinykv(["put", "00ff", "c0ffee", "--hex", "--cf", "lock", "--store", store])).code, 0)
    assert.strictEqual((await tinykv(["get", "00ff", "--hex", "--cf", "lock", "--store", store])).stdout, "c0ffee\n")
    assert.strictEqual((await tinykv(["get", "00ff", "--hex", "--store", store])).code, 1)
    const bad = await tinykv(["get", "zz", "--hex", "--store", store])
    assert.strictEqual(bad.code, 1)
    assert.include(bad.stderr, "not valid hex")
  })

  it("bad arguments and server-side rejections exit non-zero with a readable message", async () => {
    const empty = await tinykv(["put", "", "v", "--store", store])
    assert.strictEqual(empty.code, 1)
    assert.include(empty.stderr, "must not be empty")
    // no VALUE: the value is stdin's (empty here)
    assert.strictEqual((await tinykv(["put", "onlykey", "--store", store])).code, 0)
    assert.strictEqual((await tinykv(["get", "onlykey", "--store", store])).stdout, "\n")
    assert.notStrictEqual((await tinykv(["get", "k", "--cf", "nope", "--store", store])).code, 0)
    const addr = await tinykv(["get", "k", "--store", "nonsense"])
    assert.strictEqual(addr.code, 1)
    assert.include(addr.stderr, "HOST:PORT")
  })

  it("a server that is down gives a readable error and exit 1", async () => {
    const r = await tinykv(["get", "k", "--store", `127.0.0.1:${await freePort()}`])
    assert.strictEqual(r.code, 1)
    assert.match(r.stderr, /cannot reach the store/)
  })

  it("--help describes the commands", async () => {
    const r = await tinykv(["--help"])
    assert.strictEqual(r.code, 0)
    for (const c of ["server", "get", "put", "delete", "scan"]) assert.include(r.stdout, c)
  })

  it("data survives a server restart", async () => {
    assert.strictEqual((await tinykv(["put", "durable", "yes", "--store", store])).code, 0)
    assert.strictEqual(await stop(server.child), 0)
    server = await startTinykv(["server", "--standalone", "--addr", store, "--data", data], /listening/)
    assert.strictEqual((await tinykv(["get", "durable", "--store", store])).stdout, "yes\n")
  })
})
