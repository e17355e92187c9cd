/**
 * `tinykv server --standalone` on a file system with less free space than the store keeps in reserve
 * (64 MiB): a small tmpfs in a private mount namespace (`unshare -rm`), mostly taken by a filler file. The
 * CLI's writes fail with one line naming the problem, reads and deletes are served, and once the filler is
 * deleted writes succeed without a restart. See docs/OPERATIONS.md "Disk full".
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt, freePort, stop, tinykv } from "../support/cli.js"

const canMount = spawnSync("unshare", ["-rm", "true"]).status === 0

/**
 * In the namespace: mount a 96 MiB tmpfs, leave 48 MiB of it free, run the server, and delete the filler
 * once the test creates `$2` (outside the tmpfs, so the test can reach it). SIGTERM stops the server.
 */
const script = `
mount -t tmpfs -o size=96m tmpfs "$1" || exit 1
head -c 50331648 /dev/zero > "$1/filler"
node "$3" server --standalone --addr "$4" --data "$1/data" &
server=$!
trap 'kill $server; wait $server; exit 0' TERM
while [ ! -e "$2" ]; do sleep 0.1; done
rm "$1/filler"
echo "filler deleted"
wait $server
`

// skipped where the machine allows no private mount namespace (no user namespaces, not root): a tmpfs
// cannot be mounted there; test/storage/lmdbDiskFull.test.ts covers the same refusals with a quota
describe.skipIf(!canMount)("tinykv CLI against a standalone server whose disk is full", () => {
  const mountPoint = mkdtempSync(join(tmpdir(), "tinykv-full-"))
  const signals = mkdtempSync(join(tmpdir(), "tinykv-full-signal-"))
  let store = ""
  let server: ChildProcess | undefined
  let output = ""

  beforeAll(async () => {
    assertBuilt()
    store = `127.0.0.1:${await freePort()}`
    const bin = join(import.meta.dirname, "../../bin/tinykv.mjs")
    server = spawn("unshare", ["-rm", "sh", "-c", script, "sh", mountPoint, join(signals, "free"), bin, store], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    server.stdout!.on("data", (d) => (output += d))
    server.stderr!.on("data", (d) => (output += d))
    await Effect.runPromise(
      eventually(() => /listening/.test(output), { what: "the server listening", timeout: "30 seconds" })
    )
  })
  afterAll(async () => {
    if (server) await stop(server)
    rmSync(signals, { recursive: true, force: true })
    rmSync(mountPoint, { recursive: true, force: true })
  })

  it("a put fails with one line; reads and deletes are served; freeing space lets puts through", async () => {
    const refused = await tinykv(["put", "k", "v", "--store", store])
    assert.strictEqual(refused.code, 1, refused.stderr)
    assert.match(
      refused.stderr,
      /^error: the store is out of disk space \(\d+ bytes free under .*\): writes are refused until space is freed; reads still work\n$/
    )
    const missing = await tinykv(["get", "k", "--store", store])
    assert.strictEqual(missing.code, 1)
    assert.include(missing.stderr, 'key "k" not found')
    assert.strictEqual((await tinykv(["delete", "k", "--store", store])).code, 0)

    writeFileSync(join(signals, "free"), "")
    await Effect.runPromise(
      eventually(
        Effect.promise(() => tinykv(["put", "k", "v", "--store", store])).pipe(Effect.map((r) => r.code === 0)),
        { what: "a put to succeed once space is freed", timeout: "30 seconds", interval: "200 millis" }
      )
    )
    assert.include(output, "filler deleted")
    assert.deepInclude(await tinykv(["get", "k", "--store", store]), { code: 0, stdout: "v\n" })
  })
})
