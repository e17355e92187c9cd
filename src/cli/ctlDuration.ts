/**
 * Durations on the command line (`--max-store-down-time 30s`, `--schedule-interval 500ms`): a number
 * and a unit — ms, s, m, h — or Effect's own spelling ("30 seconds").
 */
import { Duration, Option } from "effect"

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export const parseDuration = (text: string): Duration.Duration | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text)
  if (m !== null) return Duration.millis(Number(m[1]) * UNITS[m[2]!]!)
  return Option.getOrUndefined(Duration.decodeUnknown(text))
}
