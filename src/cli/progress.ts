/**
 * Progress bars on stderr (cli-progress), for `tinykv load` and the benchmarks. Only on a terminal:
 * piped or redirected, stderr gets no bar at all (a log file should not fill with redraws), and the
 * caller prints its final summary as usual.
 */
import { SingleBar } from "cli-progress"

export interface Progress {
  /** `done` of the total so far; `payload` fills the format's other `{fields}`. */
  readonly update: (done: number, payload?: Record<string, string | number>) => void
  /** Removes the bar (the terminal line is left for what follows). */
  readonly stop: () => void
}

const none: Progress = { update: () => {}, stop: () => {} }

export interface ProgressOptions {
  readonly total: number
  /** cli-progress format, e.g. `load {bar} {percentage}% | {pairs} pairs`. */
  readonly format: string
  /** Payload fields the format names, with their first values. */
  readonly payload?: Record<string, string | number>
  /** Where the bar goes (default stderr); anything that is not a terminal gets none. */
  readonly stream?: NodeJS.WriteStream
}

export const progressBar = (options: ProgressOptions): Progress => {
  const stream = options.stream ?? process.stderr
  if (stream.isTTY !== true) return none
  const bar = new SingleBar({
    format: options.format,
    stream,
    hideCursor: true,
    clearOnComplete: true,
    // a redraw at most every 100 ms, however often `update` is called
    fps: 10,
    barCompleteChar: "#",
    barIncompleteChar: "-"
  })
  bar.start(options.total, 0, options.payload ?? {})
  return {
    update: (done, payload) => (payload === undefined ? bar.update(done) : bar.update(done, payload)),
    stop: () => bar.stop()
  }
}
