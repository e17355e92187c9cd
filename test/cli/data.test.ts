/**
 * The data commands end to end (the built `tinykv` against a standalone server process): output
 * formats, prefixes and ranges, values from stdin, range deletes, bulk load, the environment
 * fallback, and how wrong usage is reported.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { assertBuilt, freePort, startTinykv, stop, tinykv } from "../support/cli.js"

const T = 60_000

describe("tinykv data commands", { timeout: T }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-cli-data-"))
  let store = ""
  let server: Awaited<ReturnType<typeof startTinykv>>
  const kv = (args: ReadonlyArray<string>, input?: string) =>
    tinykv([...args, "--store", store], input === undefined ? { timeoutMs: T } : { input, timeoutMs: T })
  const ok = async (args: ReadonlyArray<string>, input?: string) => {
    const r = await kv(args, input)
    assert.strictEqual(r.code, 0, `tinykv ${args.join(" ")}: ${r.stderr}`)
    return r
  }

  beforeAll(async () => {
    assertBuilt()
    store = `127.0.0.1:${await freePort()}`
    server = await startTinykv(["server", "--standalone", "--addr", store, "--data", join(dir, "data")], /listening/)
  }, T)
  afterAll(async () => {
    if (server) await stop(server.child)
  })

  it("put reads the value from stdin when it is omitted; tabs and newlines round-trip", async () => {
    const value = "col1\tcol2\nline two\\end"
    assert.strictEqual((await ok(["put", "tab\tkey"], value)).stdout, "OK\n")
    // get prints the value byte for byte
    assert.strictEqual((await ok(["get", "tab\tkey"])).stdout, `${value}\n`)
    // a listing line is one pair: the tab, newline and backslash are escaped
    assert.strictEqual((await ok(["scan", "tab"])).stdout, "tab\\tkey\tcol1\\tcol2\\nline two\\\\end\n")
    // JSON carries the text and lossless base64
    const doc = JSON.parse((await ok(["get", "tab\tkey", "-w", "json"])).stdout)
    assert.strictEqual(doc.kvs[0].value, value)
    assert.strictEqual(Buffer.from(doc.kvs[0].valueBase64, "base64").toString("utf8"), value)
    assert.strictEqual(Buffer.from(doc.kvs[0].keyBase64, "base64").toString("utf8"), "tab\tkey")
  })

  it("binary values: JSON has null text and exact base64; --hex prints hex", async () => {
    await ok(["put", "62696e", "ff00fe", "--hex"])
    const doc = JSON.parse((await ok(["get", "--prefix", "bin", "-w", "json"])).stdout)
    assert.deepStrictEqual(doc.kvs, [{ key: "bin", keyBase64: "Ymlu", value: null, valueBase64: "/wD+" }])
    assert.strictEqual((await ok(["get", "62696e", "--hex"])).stdout, "ff00fe\n")
  })

  it("get --prefix in the three formats, --keys-only, --count", async () => {
    for (const [k, v] of [
      ["user/1", "ada"],
      ["user/2", "grace"],
      ["user/3", "linus"],
      ["users", "not under user/"]
    ]) {
      await ok(["put", k!, v!])
    }
    assert.strictEqual((await ok(["get", "--prefix", "user/"])).stdout, "user/1\tada\nuser/2\tgrace\nuser/3\tlinus\n")
    const doc = JSON.parse((await ok(["get", "--prefix", "user/", "-w", "json"])).stdout)
    assert.deepStrictEqual(
      doc.kvs.map((p: { key: string; value: string }) => [p.key, p.value]),
      [
        ["user/1", "ada"],
        ["user/2", "grace"],
        ["user/3", "linus"]
      ]
    )
    assert.deepInclude(doc, { count: 3, more: false })
    const table = (await ok(["get", "--prefix", "user/", "--write-out", "table"])).stdout.split("\n")
    assert.match(table[0]!, /^KEY\s+VALUE$/)
    assert.match(table[2]!, /^user\/2\s+grace$/)
    assert.strictEqual((await ok(["get", "--prefix", "user/", "--keys-only"])).stdout, "user/1\nuser/2\nuser/3\n")
    assert.strictEqual((await ok(["get", "--prefix", "user/", "--count"])).stdout, "3\n")
    assert.strictEqual((await ok(["get", "--prefix", "user/", "--count", "-w", "json"])).stdout, '{"count":3}\n')
  })

  it("scan says when more results exist past --limit, on stderr or in JSON", async () => {
    const r = await ok(["scan", "user/", "--limit", "2"])
    assert.strictEqual(r.stdout, "user/1\tada\nuser/2\tgrace\n")
    assert.include(r.stderr, "more results")
    assert.include(r.stderr, "user/3")
    const doc = JSON.parse((await ok(["scan", "user/", "--end", "user/9", "--limit", "2", "-w", "json"])).stdout)
    assert.deepInclude(doc, { count: 2, more: true })
    const all = await ok(["scan", "user/", "--end", "user/9", "--limit", "3"])
    assert.notInclude(all.stderr, "more results")
  })

  it("delete: one key, del alias, --prefix, and START --end END with counts", async () => {
    for (const k of ["d/1", "d/2", "d/3", "e/1", "e/2", "e/3", "f"]) await ok(["put", k, "x"])
    assert.strictEqual((await ok(["del", "f"])).stdout, "OK\n")
    assert.strictEqual((await ok(["delete", "--prefix", "d/"])).stdout, "deleted 3\n")
    assert.strictEqual((await ok(["del", "e/1", "--end", "e/3", "-w", "json"])).stdout, '{"deleted":2}\n')
    assert.strictEqual((await ok(["scan", "d", "--end", "g"])).stdout, "e/3\tx\n")
    const both = await kv(["delete", "e", "--prefix", "--end", "z"])
    assert.strictEqual(both.code, 1)
    assert.include(both.stderr, "not both")
  })

  it("load: JSON lines and CSV, with a final rate; a bad line names its number", async () => {
    const jsonl = join(dir, "pairs.jsonl")
    const lines = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({ key: `l/${String(i).padStart(3, "0")}`, value: `${i}` })
    )
    lines.push(JSON.stringify({ keyBase64: Buffer.from("l/bin").toString("base64"), valueBase64: "AAE=" }))
    lines.push(JSON.stringify({ key: "l/obj", value: { a: 1 } }))
    writeFileSync(jsonl, `${lines.join("\n")}\n`)
    const r = await ok(["load", jsonl])
    assert.match(r.stdout, /^loaded 602 pairs \(.* MiB\) in .* s: \d+ pairs\/s/)
    assert.strictEqual((await ok(["get", "--prefix", "l/", "--count"])).stdout, "602\n")
    assert.strictEqual((await ok(["get", "l/obj"])).stdout, '{"a":1}\n')
    assert.strictEqual((await ok(["get", "l/bin", "-w", "json"])).stdout.includes('"valueBase64": "AAE="'), true)

    const csv = join(dir, "pairs.csv")
    writeFileSync(csv, 'key,value\nc/1,"a,b"\nc/2,"two\nlines"\n')
    const summary = JSON.parse((await ok(["load", csv, "-w", "json"])).stdout)
    assert.strictEqual(summary.pairs, 2)
    assert.strictEqual((await ok(["get", "c/2"])).stdout, "two\nlines\n")

    const bad = join(dir, "bad.jsonl")
    writeFileSync(bad, '{"key":"ok","value":"1"}\n{"value":"no key"}\n')
    const failed = await kv(["load", bad])
    assert.strictEqual(failed.code, 1)
    assert.include(failed.stderr, "line 2")
  })

  it("TINYKV_STORE stands in for --store", async () => {
    const r = await tinykv(["get", "user/1"], { env: { TINYKV_STORE: store }, timeoutMs: T })
    assert.deepInclude(r, { code: 0, stdout: "ada\n" })
  })

  it("a wrong flag prints one reason, the usage and exits 2; no stack, no colour codes", async () => {
    for (const args of [["playground", "--bogus"], ["get", "k", "--bogus"], ["get"]]) {
      const r = await tinykv(args)
      assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`)
      const lines = r.stderr.split("\n").filter((l) => l.trim().length > 0)
      assert.include(lines[1], `usage: tinykv ${args[0]}`)
      assert.include(r.stderr, `see: tinykv ${args[0]} --help`)
      assert.notInclude(r.stderr, "ERROR")
      assert.notInclude(r.stderr, "_tag")
      assert.notInclude(r.stderr, "\u001b")
    }
  })

  it("help into a pipe has no colour codes", async () => {
    const r = await tinykv(["--help"])
    assert.strictEqual(r.code, 0)
    assert.include(r.stdout, "load")
    assert.notInclude(r.stdout, "\u001b")
  })
})
