/**
 * The scheduler's typed failures. The pure logic returns `Result`s (an `Either`) rather than
 * throwing, so every rejection is visible in the types and the Effect shell can `yield*` them as is
 * (an `Either` is an Effect in Effect 3).
 */
import { Either } from "effect"
import { type ErrorType, SchedulerError } from "../protocol/scheduler.js"

export type Result<A> = Either.Either<A, SchedulerError>

export const fail = (type: ErrorType, message: string): Result<never> =>
  Either.left(new SchedulerError({ type, message }))

export const ok = <A>(a: A): Result<A> => Either.right(a)

export const notBootstrapped = (): Result<never> => fail("NOT_BOOTSTRAPPED", "the cluster is not bootstrapped")
