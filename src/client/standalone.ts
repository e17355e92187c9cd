/** The `TinyKvClient` service over one standalone store: one connection, one region holding every key. */
import { Effect, type Scope } from "effect"
import type { StoreUnavailable } from "../rpc/errors.js"
import { connectStore } from "../rpc/storeConnection.js"
import { loadTlsCredentials, type TlsConfigError } from "../rpc/tlsCredentials.js"
import { makeClientService } from "./service.js"
import { txnRpcBackend } from "./txnRpcBackend.js"
import type { StandaloneOptions, TinyKvClientService } from "./types.js"

/** The store's one region spans the whole key space: its end key is empty. */
const WHOLE_KEY_SPACE = new Uint8Array(0)

export const makeStandaloneClient = (
  options: StandaloneOptions
): Effect.Effect<TinyKvClientService, StoreUnavailable | TlsConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    const tls = options.tls === undefined ? undefined : yield* loadTlsCredentials(options.tls)
    const conn = yield* connectStore(options.store, { timeout: options.timeout, tls })
    return makeClientService(
      (_key, method, call) => conn.call(method, (rpc) => call(rpc, undefined, WHOLE_KEY_SPACE)),
      (items, _keyOf, method, call) =>
        items.length === 0
          ? Effect.succeed([])
          : Effect.map(
              conn.call(method, (rpc) => call(items)(rpc, undefined, WHOLE_KEY_SPACE)),
              (a) => [a]
            ),
      txnRpcBackend(conn)
    )
  })
