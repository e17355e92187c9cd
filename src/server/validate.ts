/**
 * Request validation shared by every handler: bad input is answered with `InvalidArgument` before
 * it reaches an engine, so nothing is written and the process stays up.
 */
import { Effect } from "effect"
import { InvalidArgument } from "../protocol/errorpb.js"
import { MAX_KEY_SIZE, MAX_SCAN_LIMIT, MAX_VALUE_SIZE } from "../protocol/limits.js"
import { type Cf, isCf } from "../services/Storage.js"

export const validCf = (cf: string): Effect.Effect<Cf, InvalidArgument> =>
  isCf(cf)
    ? Effect.succeed(cf)
    : Effect.fail(new InvalidArgument({ message: `unknown column family "${cf}" (expected default, lock or write)` }))

/** Whether `validKey` accepts `key`. */
export const isValidKey = (key: Uint8Array): boolean => key.length > 0 && key.length <= MAX_KEY_SIZE

export const validKey = (key: Uint8Array, what = "key"): Effect.Effect<Uint8Array, InvalidArgument> =>
  isValidKey(key)
    ? Effect.succeed(key)
    : Effect.fail(
        new InvalidArgument({
          message:
            key.length === 0
              ? `${what} must not be empty`
              : `${what} is ${key.length} bytes; the limit is ${MAX_KEY_SIZE}`
        })
      )

/** Whether `validValue` accepts `value`. */
export const isValidValue = (value: Uint8Array): boolean => value.length <= MAX_VALUE_SIZE

export const validValue = (value: Uint8Array): Effect.Effect<Uint8Array, InvalidArgument> =>
  !isValidValue(value)
    ? Effect.fail(new InvalidArgument({ message: `value is ${value.length} bytes; the limit is ${MAX_VALUE_SIZE}` }))
    : Effect.succeed(value)

export const validLimit = (limit: number): Effect.Effect<number, InvalidArgument> =>
  limit > MAX_SCAN_LIMIT
    ? Effect.fail(new InvalidArgument({ message: `scan limit ${limit} is over the maximum ${MAX_SCAN_LIMIT}` }))
    : Effect.succeed(limit)
