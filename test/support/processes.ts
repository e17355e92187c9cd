/** The live processes of this machine, for tests that check a cluster left nothing running. */
import { execFileSync } from "node:child_process"

/** Pids of live processes whose command line contains `needle`. */
export const processesWith = (needle: string): Array<number> =>
  execFileSync("ps", ["-eo", "pid=,args="])
    .toString()
    .split("\n")
    .filter((l) => l.includes(needle) && !l.includes("ps -eo"))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
