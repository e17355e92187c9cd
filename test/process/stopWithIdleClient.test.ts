/**
 * A store stops on SIGTERM while a client keeps an idle connection open. It used to wait for the client to
 * hang up, for ever: the loop serving its connections lived in the program's outermost scope, closed after
 * the listener, whose close waits for every connection (`src/server/serve.ts`). Store-to-store links keep
 * idle connections open the same way (`src/layers/raftLink.ts`).
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import type { ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assertBuilt, freePort, startTinykv, stop } from "../support/cli.js"

describe("stopping a store", () => {
  const cleanups: Array<() => void> = []
  afterEach(() => {
    for (const c of cleanups.splice(0)) c()
  })

  it("SIGTERM ends a standalone store with an idle client connection open: exit code 0", async () => {
    assertBuilt()
    const dir = mkdtempSync(join(tmpdir(), "tinykv-stop-"))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const port = await freePort()
    const { child } = await startTinykv(
      ["server", "--standalone", "--addr", `127.0.0.1:${port}`, "--data", dir],
      /listening/
    )
    cleanups.push(() => (child as ChildProcess).kill("SIGKILL"))
    const idle = Net.connect({ host: "127.0.0.1", port })
    idle.on("error", () => {})
    cleanups.push(() => idle.destroy())
    await new Promise<void>((resolve) => idle.once("connect", () => resolve()))
    // a store that hangs fails the test at its timeout; `afterEach` then kills it
    const code = await stop(child)
    assert.strictEqual(code, 0, "the store exited by itself")
  }, 30_000)
})
