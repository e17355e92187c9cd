/** `tinykv txn` end to end: the built CLI against a standalone server process. */
import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { connectStore } from "../../src/rpc/storeConnection.js"
import type { TxnBackend } from "../../src/client/txnBackend.js"
import { txnRpcBackend } from "../../src/client/txnRpcBackend.js"
import type { ClientError } from "../../src/client/TinyKvClient.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { assertBuilt, freePort, startTinykv, stop, tinykv } from "../support/cli.js"

// each CLI run starts a node process (~1 s of CPU); on a loaded 2-core box give them room
describe("tinykv txn against a standalone server", { timeout: 180_000 }, () => {
  const data = mkdtempSync(join(tmpdir(), "tinykv-cli-txn-"))
  const scope = Effect.runSync(Scope.make())
  let store = ""
  let server: Awaited<ReturnType<typeof startTinykv>>
  // the protocol, to play another transaction that holds a lock while the CLI runs
  let backend: TxnBackend<ClientError>
  const run = <A>(e: Effect.Effect<A, ClientError>) => Effect.runPromise(e)
  const txn = (script: string, ...flags: Array<string>) => tinykv(["txn", script, "--store", store, ...flags])

  /** Prewrites `key` as the primary of a transaction that then does nothing; returns its start_ts. */
  const lockKey = async (key: string) => {
    const startVersion = await run(backend.tso)
    const mutations = [{ op: "Put" as const, key: utf8(key), value: utf8("theirs") }]
    const r = await run(backend.KvPrewrite({ mutations, primaryLock: utf8(key), startVersion, lockTtl: 60_000 }))
    assert.deepStrictEqual(r.errors, [])
    return startVersion
  }

  beforeAll(async () => {
    assertBuilt()
    store = `127.0.0.1:${await freePort()}`
    server = await startTinykv(["server", "--standalone", "--addr", store, "--data", data], /listening/)
    backend = txnRpcBackend(await Effect.runPromise(Scope.extend(connectStore(store), scope)))
  })
  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    if (server) await stop(server.child)
  })

  it("runs a script argument: puts, gets, scans and commits", async () => {
    const r = await txn('begin; put a 1; put b "two words; and a semicolon"; get b; get missing; scan "" 10; commit')
    assert.strictEqual(r.stderr, "")
    assert.strictEqual(r.code, 0)
    const lines = r.stdout.trimEnd().split("\n")
    assert.deepStrictEqual(lines.slice(0, 4), [
      "two words; and a semicolon",
      "(not found)",
      "a\t1",
      "b\ttwo words; and a semicolon"
    ])
    assert.match(lines[4] ?? "", /^COMMITTED \d+$/)
    assert.lengthOf(lines, 5)
    // the raw `get` reads the default column family, not the MVCC data: read back in a transaction
    assert.match((await txn("get a; commit")).stdout, /^1\nCOMMITTED \(read-only\)\n$/)
  })

  it("-w json prints one array of the statements' results, lossless (base64 beside every key and value)", async () => {
    const r = await txn("put j1 v1; put j2 v2; commit; get j1; get nothing; scan j 10", "-w", "json")
    assert.strictEqual(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.strictEqual(out[0].op, "commit")
    assert.match(out[0].commitTs, /^\d+$/)
    assert.deepStrictEqual(out[1], {
      op: "get",
      key: "j1",
      keyBase64: "ajE=",
      found: true,
      value: "v1",
      valueBase64: "djE="
    })
    assert.deepStrictEqual(out[2], { op: "get", key: "nothing", keyBase64: "bm90aGluZw==", found: false })
    assert.deepStrictEqual(
      out[3].pairs.map((p: { key: string; value: string }) => [p.key, p.value]),
      [
        ["j1", "v1"],
        ["j2", "v2"]
      ]
    )
    assert.deepStrictEqual(out[4], { op: "rollback", implicit: true })
  })

  it("raw commands never see or touch transactional data: separate key spaces", async () => {
    const c = await txn("put ks-a 1; commit")
    assert.strictEqual(c.code, 0, c.stderr)
    assert.deepInclude(await tinykv(["put", "ks-raw", "r", "--store", store]), { code: 0 })
    // before key spaces, the raw scan printed the transaction's MVCC-encoded keys
    for (const cf of ["default", "lock", "write"]) {
      const r = await tinykv(["scan", "ks-", "--end", "ks.", "--cf", cf, "--store", store])
      assert.strictEqual(r.stdout, cf === "default" ? "ks-raw\tr\n" : "", `raw scan of ${cf}`)
    }
    assert.strictEqual((await tinykv(["get", "ks-a", "--store", store])).code, 1)
    // a raw "lock" on the transaction's key is raw data, not a lock
    assert.deepInclude(await tinykv(["put", "ks-a", "junk", "--cf", "lock", "--store", store]), { code: 0 })
    assert.match((await txn("get ks-a; put ks-a 2; commit")).stdout, /^1\nCOMMITTED \d+\n$/)
  })

  it("reads the script from stdin, newlines and comments included, with an implicit begin", async () => {
    const input = '# set up two keys\nput s1 "x y"\nput s2 z\n\nget s1\ncommit\nget s2\nrollback\n'
    const r = await tinykv(["txn", "--store", store], { input })
    assert.strictEqual(r.code, 0)
    assert.match(r.stdout, /^x y\nCOMMITTED \d+\nz\nROLLED BACK\n$/)
  })

  it("--hex takes and prints hex keys and values", async () => {
    const r = await txn("put 00ff c0ffee; get 00ff; commit; scan 00 1", "--hex")
    assert.strictEqual(r.code, 0)
    assert.match(r.stdout, /^c0ffee\nCOMMITTED \d+\n00ff\tc0ffee\nROLLED BACK \(the script ended without commit\)\n$/)
  })

  it("a script that ends without commit rolls back and says so", async () => {
    const r = await txn("put uncommitted 1; get uncommitted")
    assert.strictEqual(r.code, 0)
    assert.strictEqual(r.stdout, "1\nROLLED BACK (the script ended without commit)\n")
    assert.match((await txn("get uncommitted")).stdout, /^\(not found\)\n/)
  })

  it("a parse error names the statement, exits 1 and runs nothing", async () => {
    const r = await txn("put parsed 1; commit; put onlykey")
    assert.strictEqual(r.code, 1)
    assert.strictEqual(r.stdout, "")
    assert.strictEqual(r.stderr, "error: statement 3 `put onlykey`: expected `put KEY VALUE`\n")
    assert.match((await txn("get parsed")).stdout, /^\(not found\)\n/)

    // the rest are independent: run them side by side
    const [unknown, quote, nested, limit, hex, empty] = await Promise.all([
      txn("begin; frobnicate x"),
      txn('put "open 1'),
      txn("begin; begin"),
      txn("scan a lots"),
      txn("put zz 1", "--hex"),
      tinykv(["txn", "--store", store], { input: " ; \n# only a comment\n" })
    ])
    for (const r of [unknown, quote, nested, limit, hex, empty]) assert.strictEqual(r.code, 1)
    assert.include(unknown.stderr, 'statement 2 `frobnicate x`: unknown statement "frobnicate"')
    assert.include(quote.stderr, "unterminated quote")
    assert.include(nested.stderr, "statement 2 `begin`: a transaction is already open")
    assert.include(limit.stderr, 'LIMIT "lots" is not a non-negative integer')
    assert.include(hex.stderr, 'key "zz" is not valid hex')
    assert.strictEqual(empty.stderr, "error: the script has no statements\n")
  })

  it("a key locked by a live transaction fails with KeyIsLocked after waiting, exit 1", async () => {
    const lockTs = await lockKey("held")
    const r = await txn("get held")
    assert.strictEqual(r.code, 1)
    assert.match(
      r.stderr,
      /^error: statement 1 `get held`: key "held" is locked by a transaction that is still running .*retrying later may help\n$/
    )
    await run(backend.KvBatchRollback({ startVersion: lockTs, keys: [utf8("held")] }))
    assert.match((await txn("get held")).stdout, /^\(not found\)\n/)
  })

  it("a write conflict fails the commit with exit 1 and writes nothing", async () => {
    // another transaction holds `contested`; once the CLI has begun (it printed the get), that
    // transaction commits, so the CLI's prewrite finds a write newer than its start: a conflict
    const lockTs = await lockKey("contested")
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, "../../bin/tinykv.mjs"),
        "txn",
        "--store",
        store,
        "get other; put contested mine; commit"
      ],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const begun = new Promise<void>((resolve) =>
      child.stdout.on("data", (d) => {
        stdout += d
        if (stdout.includes("(not found)")) resolve()
      })
    )
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
    await Promise.race([begun, exited.then(() => assert.fail(`the CLI exited early: ${stderr}`))])
    const commitVersion = await run(backend.tso)
    const c = await run(backend.KvCommit({ startVersion: lockTs, keys: [utf8("contested")], commitVersion }))
    assert.isUndefined(c.error)
    assert.strictEqual(await exited, 1)
    assert.match(
      stderr,
      /^error: statement 3 `commit`: write conflict on key "contested": another transaction committed it .*retrying the transaction may help\n$/
    )
    assert.match((await txn("get contested")).stdout, /^theirs\n/)
  })

  it("an unreachable store and a bad address exit 1 readably", async () => {
    const port = await freePort()
    const [down, bad] = await Promise.all([
      tinykv(["txn", "get a", "--store", `127.0.0.1:${port}`]),
      tinykv(["txn", "get a", "--store", "nonsense"])
    ])
    assert.strictEqual(down.code, 1)
    assert.match(down.stderr, /cannot reach the store/)
    assert.strictEqual(bad.code, 1)
    assert.include(bad.stderr, "HOST:PORT")
  })

  it("--help explains the statements with an example", async () => {
    const [r, top] = await Promise.all([tinykv(["txn", "--help"]), tinykv(["--help"])])
    assert.strictEqual(r.code, 0)
    for (const s of ["put KEY VALUE", "scan START [LIMIT]", "COMMITTED", "ROLLED BACK", "Example: tinykv txn"]) {
      assert.include(r.stdout, s)
    }
    assert.match(top.stdout, /- txn .*Run a transaction script/)
  })
})
