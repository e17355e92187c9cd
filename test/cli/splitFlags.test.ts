/** The split flags of `tinykv server` and `tinykv playground` refuse bad values with a readable line. */
import { describe, expect, it } from "vitest"
import { assertBuilt, tinykv } from "../support/cli.js"

describe("region split flags", () => {
  it("server: a size that is not a size, and a max below the split size, are usage errors", async () => {
    assertBuilt()
    const bad = await tinykv(["server", "--data", "/nonexistent/x", "--region-split-size", "lots"])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/--region-split-size "lots" is not a size like 96MiB/)
    const inverted = await tinykv(["playground", "--region-split-size", "2KiB", "--region-max-size", "1KiB"])
    expect(inverted.code).not.toBe(0)
    expect(inverted.stderr).toMatch(/--region-max-size must be at least --region-split-size/)
    const interval = await tinykv(["server", "--split-check-interval", "soon"])
    expect(interval.code).not.toBe(0)
    expect(interval.stderr).toMatch(/--split-check-interval "soon" is not a duration/)
  }, 120_000)
})
