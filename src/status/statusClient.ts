/**
 * How one process reads another's status listener (the scheduler's dashboard reads each store's
 * `/metrics`): plain HTTP, or HTTPS with this process's own certificate when it runs with TLS, since
 * then every status listener requires a client certificate of the cluster's CA. The credentials are
 * read at each use, so a rotated certificate is presented without a restart.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, Layer } from "effect"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"

export interface StatusClientShape {
  /** `http` or `https`: the scheme of every status listener of this cluster. */
  readonly scheme: "http" | "https"
  /** An HTTP client for one round of requests, with the current credentials when there is TLS. */
  readonly client: Layer.Layer<HttpClient.HttpClient>
}

export class StatusClient extends Context.Tag("tinykv/status/StatusClient")<StatusClient, StatusClientShape>() {}

export const makeStatusClient = (credentials: TlsCredentials | undefined): StatusClientShape =>
  credentials === undefined
    ? { scheme: "http", client: FetchHttpClient.layer }
    : {
        scheme: "https",
        client: Layer.suspend(() => {
          const { ca, cert, key } = credentials.current()
          return NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ ca, cert, key })))
        })
      }

export const layerStatusClient = (credentials: TlsCredentials | undefined) =>
  Layer.succeed(StatusClient, makeStatusClient(credentials))
