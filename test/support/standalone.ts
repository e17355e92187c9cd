/** Starts an in-process standalone store on a free loopback port, for the lifetime of the scope. */
import { SocketServer } from "@effect/platform/SocketServer"
import { Effect, Layer } from "effect"
import { layerStandaloneRpc } from "../../src/layers/standaloneStore.js"
import type { LmdbOptions } from "../../src/layers/storageLmdb.js"
import { layerWithTls, type TlsOptions } from "../../src/rpc/tlsCredentials.js"
import { layerSocketServer } from "../../src/server/serve.js"

/** With `tls`, the store serves mutual TLS only; `lmdb` sizes its engine's disk (with a `dataDir`). */
export const startStandalone = (dataDir?: string, tls?: TlsOptions, lmdb?: LmdbOptions) =>
  Effect.gen(function* () {
    const layer = Layer.provideMerge(
      layerStandaloneRpc(dataDir, lmdb),
      layerWithTls(tls, (credentials) => layerSocketServer({ host: "127.0.0.1", port: 0 }, credentials))
    )
    const ctx = yield* Layer.build(layer)
    const server = yield* Effect.provide(SocketServer, ctx)
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
    return { address: `127.0.0.1:${address.port}`, port: address.port }
  })
