/** `tinykv server --raft-log-gc-size-limit` takes a size and refuses anything else with a readable line. */
import { describe, expect, it } from "vitest"
import { assertBuilt, tinykv } from "../support/cli.js"

describe("raft log GC size flag", () => {
  it("server: a size that is not a size, or no size at all, is a usage error; --help names the flag", async () => {
    assertBuilt()
    const args = ["server", "--scheduler", "127.0.0.1:1", "--data", "/nonexistent/x", "--raft-log-gc-size-limit"]
    const bad = await tinykv([...args, "lots"])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/--raft-log-gc-size-limit "lots" is not a positive size like 72MiB/)
    const zero = await tinykv([...args, "0B"])
    expect(zero.code).not.toBe(0)
    expect(zero.stderr).toMatch(/--raft-log-gc-size-limit "0B" is not a positive size/)
    const help = await tinykv(["server", "--help"])
    expect(help.stdout).toMatch(/--raft-log-gc-size-limit/)
  }, 120_000)
})
