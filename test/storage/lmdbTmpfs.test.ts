/**
 * A real full file system under lmdb: `test/support/lmdbFullDisk.ts` runs in a private mount namespace on a
 * small tmpfs (`unshare -rm`, which needs user namespaces or root), fills it, and writes until the OS
 * refuses (ENOSPC, or EIO from the tmpfs). The write must fail with `DiskFull` — not crash the process
 * (lmdb-js leaves a failed commit's promises unhandled) — every acknowledged write must read back, and
 * once the filler is deleted writes succeed again and survive a reopen.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, it } from "vitest"

const canMount = spawnSync("unshare", ["-rm", "true"]).status === 0

// skipped where the machine allows no private mount namespace (no user namespaces, not root): a tmpfs
// cannot be mounted there, and the quota tests in lmdbDiskFull.test.ts cover the rest
// "thread": commits on lmdb's write thread (a standalone store); "inline": on the calling thread (a raftstore)
it.skipIf(!canMount).each(["thread", "inline"])(
  "a full tmpfs (%s commits): writes fail with DiskFull, nothing acknowledged is lost, writes resume once freed",
  (mode) => {
    const mountPoint = mkdtempSync(join(tmpdir(), "tinykv-tmpfs-"))
    try {
      const script = `mount -t tmpfs -o size=8m tmpfs "$1" && exec node_modules/.bin/tsx test/support/lmdbFullDisk.ts "$1" "$2"`
      const run = spawnSync("unshare", ["-rm", "sh", "-c", script, "sh", mountPoint, mode], {
        encoding: "utf8",
        timeout: 60_000
      })
      const lines = run.stdout.trim().split("\n")
      const result = JSON.parse(lines[lines.length - 1] ?? "{}") as Record<string, unknown>
      assert.strictEqual(run.status, 0, `${run.stdout}\n${run.stderr}`)
      assert.strictEqual(result.refused, "DiskFull")
      assert.isAbove(result.acked as number, 100)
      assert.strictEqual(result.readBack, result.acked)
      assert.isTrue(result.diskFullAfter, "the store reports itself full")
      assert.isTrue(result.roomSeen, "and sees the room come back")
      assert.isTrue(result.afterFree, "a write after freeing space succeeds")
      assert.strictEqual(result.reopened, (result.acked as number) + 1)
    } finally {
      rmSync(mountPoint, { recursive: true, force: true })
    }
  }
)
