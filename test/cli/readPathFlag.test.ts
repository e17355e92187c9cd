/** `tinykv server --read-path` takes readIndex or log (`docs/ARCHITECTURE.md`, "Reads"), and refuses the rest. */
import { describe, expect, it } from "vitest"
import { assertBuilt, tinykv } from "../support/cli.js"

describe("read path flag", () => {
  it("server: an unknown read path is a usage error naming the choices", async () => {
    assertBuilt()
    const bad = await tinykv(["server", "--data", "/nonexistent/x", "--read-path", "lease"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/Expected one of the following cases: readIndex, log/)
    const help = await tinykv(["server", "--help"])
    expect(help.stdout).toMatch(/--read-path readIndex \| log/)
  }, 120_000)
})
