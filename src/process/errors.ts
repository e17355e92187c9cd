/** Why a local cluster could not start or serve. */
import { Data, Duration } from "effect"

/**
 * A child process could not be started, exited before it was ready, or was not ready in time. The message
 * is one line; `output` holds what the child printed until then (also in its log file, if it has one).
 */
export class ChildNotReady extends Data.TaggedError("ChildNotReady")<{
  readonly name: string
  readonly reason: string
  readonly output: string
}> {
  override get message() {
    return `${this.name} ${this.reason}`
  }
}

/** No write succeeded through the scheduler before the deadline. */
export class ClusterNotWritable extends Data.TaggedError("ClusterNotWritable")<{
  readonly scheduler: string
  readonly timeout: Duration.Duration
  readonly lastError: string
}> {
  override get message() {
    return `the cluster (scheduler ${this.scheduler}) did not accept a write within ${Duration.format(this.timeout)}: ${this.lastError}`
  }
}
