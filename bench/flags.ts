/** Command-line flags of the bench suites. */
import { RAFT_ENGINES, type RaftEngine } from "../src/raftstore/config.js"

/** The value after `--name` in `args`, if the flag is there. */
export const flagOf = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

/** `--raft-engine log|lmdb`: where the stores keep their raft log (`tinykv server --raft-engine`); absent: the default. */
export const raftEngineOf = (args: ReadonlyArray<string>): RaftEngine | undefined => {
  const value = flagOf(args, "raft-engine")
  if (value === undefined) return undefined
  if (!(RAFT_ENGINES as ReadonlyArray<string>).includes(value))
    throw new Error(`--raft-engine: expected ${RAFT_ENGINES.join(" or ")}, got "${value}"`)
  return value as RaftEngine
}

/** The store flags that choose `engine`, if one was chosen. */
export const raftEngineArgs = (engine: RaftEngine | undefined): Array<string> =>
  engine === undefined ? [] : ["--raft-engine", engine]

/**
 * How the stores keep their raft log, for a result's `system`: the segmented log of their own (the default) or the
 * LMDB environment of the applied data.
 */
export const raftEngineLabel = (engine: RaftEngine | undefined): string =>
  (engine ?? "log") === "log"
    ? "raft log of their own, one fdatasync per round"
    : "raft log in LMDB, one synced commit per round"
