/**
 * `tinykv server --read-path` takes readIndex or log (`docs/ARCHITECTURE.md`, "Reads"), and refuses the rest;
 * `--no-lease-reads` turns the leader's read lease off.
 */
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
    // lease reads are on by default; the flag is named for turning them off, with its negation accepted
    expect(help.stdout).toMatch(/\[--no-lease-reads\|--lease-reads\]/)
    expect(help.stdout).toMatch(/every read asks a quorum \(ReadIndex\)/)
  }, 120_000)
})
