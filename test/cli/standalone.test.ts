/** The `tinykv` command end to end against a standalone server process. */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../../bench/standalone.js"
import { assertBuilt, startTinykv, stop, tinykv } from "../support/cli.js"

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
    expect(await tinykv(["put", "hello", "world", "--store", store])).toMatchObject({ code: 0, stdout: "OK\n" })
    expect(await tinykv(["get", "hello", "--store", store])).toMatchObject({ code: 0, stdout: "world\n" })
    expect((await tinykv(["delete", "hello", "--store", store])).code).toBe(0)
    const missing = await tinykv(["get", "hello", "--store", store])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('key "hello" not found')
  })

  it("scan prints KEY<TAB>VALUE lines in key order, with --end and --limit", async () => {
    for (const k of ["s1", "s2", "s3", "t1"])
      expect((await tinykv(["put", k, k.toUpperCase(), "--store", store])).code).toBe(0)
    expect((await tinykv(["scan", "s", "--end", "t", "--store", store])).stdout).toBe("s1\tS1\ns2\tS2\ns3\tS3\n")
    expect((await tinykv(["scan", "s", "--limit", "2", "--store", store])).stdout).toBe("s1\tS1\ns2\tS2\n")
  })

  it("--cf and --hex address other column families and binary keys", async () => {
    expect((await tinykv(["put", "00ff", "c0ffee", "--hex", "--cf", "lock", "--store", store])).code).toBe(0)
    expect((await tinykv(["get", "00ff", "--hex", "--cf", "lock", "--store", store])).stdout).toBe("c0ffee\n")
    expect((await tinykv(["get", "00ff", "--hex", "--store", store])).code).toBe(1)
    const bad = await tinykv(["get", "zz", "--hex", "--store", store])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("not valid hex")
  })

  it("bad arguments and server-side rejections exit non-zero with a readable message", async () => {
    const empty = await tinykv(["put", "", "v", "--store", store])
    expect(empty.code).toBe(1)
    expect(empty.stderr).toContain("must not be empty")
    expect((await tinykv(["put", "onlykey", "--store", store])).code).not.toBe(0)
    expect((await tinykv(["get", "k", "--cf", "nope", "--store", store])).code).not.toBe(0)
    const addr = await tinykv(["get", "k", "--store", "nonsense"])
    expect(addr.code).toBe(1)
    expect(addr.stderr).toContain("HOST:PORT")
  })

  it("a server that is down gives a readable error and exit 1", async () => {
    const r = await tinykv(["get", "k", "--store", `127.0.0.1:${await freePort()}`])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot reach the store/)
  })

  it("--help describes the commands", async () => {
    const r = await tinykv(["--help"])
    expect(r.code).toBe(0)
    for (const c of ["server", "get", "put", "delete", "scan"]) expect(r.stdout).toContain(c)
  })

  it("data survives a server restart", async () => {
    expect((await tinykv(["put", "durable", "yes", "--store", store])).code).toBe(0)
    expect(await stop(server.child)).toBe(0)
    server = await startTinykv(["server", "--standalone", "--addr", store, "--data", data], /listening/)
    expect((await tinykv(["get", "durable", "--store", store])).stdout).toBe("yes\n")
  })
})
