/** What the client commands share: connection options, byte encodings, error reporting. */
import { Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { describeError } from "../../client/errors.js"
import { TinyKvClient } from "../../client/TinyKvClient.js"
import { isValidAddress } from "../../rpc/address.js"
import { UsageError } from "../../cli/usage.js"
import { fromUtf8, toHex } from "../../protocol/bytes.js"
import { type TlsFlags, tlsFileOptions, tlsFromFlags } from "./tlsOptions.js"

export { parseBytes, UsageError } from "../../cli/usage.js"

/**
 * Where a client command goes: a cluster through its scheduler (the default, 127.0.0.1:2379), or one
 * standalone store with `--store HOST:PORT`; and how: plain TCP, or mutual TLS with the TLS flags.
 */
export const storeOption = Options.all({
  store: Options.text("store").pipe(
    Options.optional,
    Options.withDescription("address HOST:PORT of a standalone store (instead of a cluster)")
  ),
  scheduler: Options.text("scheduler").pipe(
    Options.withDefault("127.0.0.1:2379"),
    Options.withDescription("address HOST:PORT of the cluster's scheduler")
  ),
  ...tlsFileOptions
})

export type Target = { readonly store: Option.Option<string>; readonly scheduler: string } & TlsFlags

/** The client layer for a command's target, after checking the address and the TLS flags. */
export const clientLayer = (target: Target) =>
  Effect.gen(function* () {
    const address = yield* Option.isSome(target.store)
      ? checkAddress(target.store.value)
      : checkAddress(target.scheduler)
    const tls = yield* tlsFromFlags(target)
    return Option.isSome(target.store)
      ? TinyKvClient.layer({ store: address, timeout: "5 seconds", tls })
      : TinyKvClient.layer({ scheduler: address, timeout: "2 seconds", deadline: "10 seconds", tls })
  })
export const cfOption = Options.choice("cf", ["default", "lock", "write"]).pipe(
  Options.withDefault("default" as const),
  Options.withDescription("column family")
)
export const hexOption = Options.boolean("hex").pipe(
  Options.withDescription("keys and values are given and printed as hex instead of UTF-8")
)

export const showBytes = (b: Uint8Array, hex: boolean): string => (hex ? toHex(b) : fromUtf8(b))

export const checkAddress = (address: string): Effect.Effect<string, UsageError> =>
  isValidAddress(address) ? Effect.succeed(address) : Effect.fail(new UsageError(`"${address}" is not HOST:PORT`))

/** Prints any failure readably on stderr and sets a non-zero exit code; defects still surface. */
export const reportErrors = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.asVoid,
    Effect.catchAll((e) =>
      Console.error(`error: ${e instanceof UsageError ? e.message : describeError(e)}`).pipe(
        Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
      )
    )
  )
