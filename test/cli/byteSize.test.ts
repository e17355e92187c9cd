/** Sizes on the command line (`--region-split-size`, `--region-max-size`). */
import { describe, expect, it } from "vitest"
import { parseByteSize } from "../../src/cli/byteSize.js"

describe("parseByteSize", () => {
  it("reads bytes, decimal and binary units, case and spaces ignored", () => {
    expect(parseByteSize("65536")).toBe(65536)
    expect(parseByteSize("96MiB")).toBe(96 * 1024 * 1024)
    expect(parseByteSize("144 mib")).toBe(144 * 1024 * 1024)
    expect(parseByteSize("1MB")).toBe(1_000_000)
    expect(parseByteSize("4k")).toBe(4096)
    expect(parseByteSize("1.5KiB")).toBe(1536)
    expect(parseByteSize("2GB")).toBe(2_000_000_000)
    expect(parseByteSize("10b")).toBe(10)
  })

  it("refuses what is not a positive size", () => {
    for (const bad of ["", "0", "-1", "MiB", "12 parsecs", "1e3", "0.1b", "9".repeat(30)]) {
      expect(parseByteSize(bad), bad).toBeUndefined()
    }
  })
})
