/**
 * Where a data command goes — a cluster through its scheduler(s), or one standalone store — and the
 * client layer for it. The flags fall back to `TINYKV_SCHEDULER` / `TINYKV_STORE` (read by the option
 * definitions in src/bin).
 */
import { Effect, Option } from "effect"
import { TinyKvClient } from "../client/TinyKvClient.js"
import type { StoreUnavailable } from "../rpc/errors.js"
import type { TlsConfigError } from "../rpc/tlsCredentials.js"
import { type TlsFlags, tlsFromFlags } from "./tlsFlags.js"
import { checkAddress, UsageError } from "./usage.js"

export interface Target extends Partial<TlsFlags> {
  readonly store: Option.Option<string>
  /** One address, or several separated by commas (tried in turn). */
  readonly scheduler: string
}

/** Every address of a comma-separated list, checked. */
export const checkAddresses = (list: string): Effect.Effect<ReadonlyArray<string>, UsageError> => {
  const addresses = list
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
  return addresses.length === 0
    ? Effect.fail(new UsageError(`"${list}" names no HOST:PORT address`))
    : Effect.forEach(addresses, checkAddress)
}

/** The client layer for a command's target, after checking the address(es) and the TLS flags. */
export const clientLayer = (target: Target) =>
  Effect.gen(function* () {
    const tls = yield* tlsFromFlags({
      tlsCa: target.tlsCa ?? Option.none(),
      tlsCert: target.tlsCert ?? Option.none(),
      tlsKey: target.tlsKey ?? Option.none()
    })
    const secure = tls === undefined ? {} : { tls }
    return Option.isSome(target.store)
      ? TinyKvClient.layer({ store: yield* checkAddress(target.store.value), timeout: "5 seconds", ...secure })
      : TinyKvClient.layer({
          scheduler: yield* checkAddresses(target.scheduler),
          timeout: "2 seconds",
          deadline: "10 seconds",
          ...secure
        })
  })

/** Runs `f` with a client for `target`. */
export const withClient = <A, E>(
  target: Target,
  f: (client: TinyKvClient["Type"]) => Effect.Effect<A, E>
): Effect.Effect<A, E | UsageError | StoreUnavailable | TlsConfigError> =>
  Effect.flatMap(clientLayer(target), (layer) => Effect.flatMap(TinyKvClient, f).pipe(Effect.provide(layer)))
