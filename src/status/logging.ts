/**
 * How a process writes its log lines (`--log-format json|pretty`): JSON, one object a line with the
 * message, level, timestamp and annotations (`storeId`, `regionId`, `peerId` …) — what a log shipper
 * wants; or Effect's pretty logger for a person at a terminal. Without the flag: pretty when stdout is a
 * terminal, JSON otherwise (a pipe, a file, the playground's log files).
 */
import { FiberRef, HashSet, Layer, Logger } from "effect"

export type LogFormat = "json" | "pretty"

export const LOG_FORMATS: ReadonlyArray<LogFormat> = ["json", "pretty"]

export const defaultLogFormat = (): LogFormat => (process.stdout.isTTY === true ? "pretty" : "json")

const jsonToStdout = Logger.withConsoleLog(Logger.jsonLogger)

/**
 * Puts the chosen logger in place of Effect's default one and of the pretty one the Node runtime's
 * `runMain` installs, for everything run under this layer.
 */
export const layerLogFormat = (format: LogFormat = defaultLogFormat()): Layer.Layer<never> => {
  const chosen = format === "json" ? jsonToStdout : Logger.prettyLoggerDefault
  return Layer.fiberRefLocallyScopedWith(FiberRef.currentLoggers, (loggers) =>
    loggers.pipe(HashSet.remove(Logger.defaultLogger), HashSet.remove(Logger.prettyLoggerDefault), HashSet.add(chosen))
  )
}
