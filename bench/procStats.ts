/** A store process's CPU time and memory, read from /proc (Linux only): what the `scale` and `cpu` suites report. */
import { readdirSync, readFileSync } from "node:fs"

/** The pid of the store whose data directory is `dataDir` (the child runs `node bin/tinykv.mjs server … --data DIR`). */
export const pidOf = (dataDir: string): number => {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")
      const i = argv.indexOf("--data")
      if (argv.includes("server") && i >= 0 && argv[i + 1] === dataDir) return Number(entry)
    } catch {
      // the process went away while we looked
    }
  }
  throw new Error(`no process serves ${dataDir}`)
}

const TICKS_PER_SECOND = 100 // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux
/** utime + stime of `pid`, in seconds. */
export const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}
/**
 * VmRSS, and the same split into anonymous memory (the heap and everything else the process allocated) and
 * file-backed pages (mostly LMDB's memory map: engine pages the process touched, which the kernel may drop).
 */
export const memoryOf = (pid: number): { rssMiB: number; anonMiB: number; fileMiB: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN)
  const mib = (k: number) => Math.round(k / 102.4) / 10
  return { rssMiB: mib(kb("VmRSS")), anonMiB: mib(kb("RssAnon")), fileMiB: mib(kb("RssFile") + kb("RssShmem")) }
}

/**
 * The sum of every sample of the counters named `names` on a store's `/metrics` (all labels added up): how the
 * `cpu` suite counts RaftWorker rounds and engine writes per operation.
 */
export const countersOf = async (
  statusAddress: string,
  names: ReadonlyArray<string>
): Promise<Record<string, number>> => {
  const text = await (await fetch(`http://${statusAddress}/metrics`)).text()
  const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]))
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line)
    if (match && match[1]! in sums) sums[match[1]!]! += Number(match[2])
  }
  return sums
}
