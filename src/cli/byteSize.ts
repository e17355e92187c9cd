/**
 * Sizes on the command line (`--region-split-size 96MiB`, `--region-max-size 1MB`): a whole number of
 * bytes, or a number and a unit — KB/MB/GB (powers of 1000) or KiB/MiB/GiB (powers of 1024), case
 * ignored, `B` optional.
 */
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3
}

/** The size in bytes, or undefined when `text` is not a positive size. */
export const parseByteSize = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (m === null) return undefined
  const unit = UNITS[m[2]!.toLowerCase()]
  if (unit === undefined) return undefined
  const bytes = Math.round(Number(m[1]) * unit)
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}
