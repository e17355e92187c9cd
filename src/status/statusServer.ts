/**
 * The status listener of a process (`--status-addr HOST:PORT`), an HTTP server beside the RPC port:
 *
 * - `/metrics`: the Prometheus text format (`prometheus.ts`), after `Health.sample` refreshed the gauges
 *   read off live state;
 * - `/health`: 200 while the process runs (`{"status":"ok","service":…}`);
 * - `/ready`: 200 when `Health.ready` says so, else 503, with its detail as JSON;
 * - whatever `routes` adds (the scheduler's dashboard), with a `StatusClient` to read other processes'
 *   status listeners.
 *
 * With TLS credentials it serves HTTPS only and requires a client certificate of the cluster's CA whose
 * name is on the allow-list, like every other listener (`tlsHttpServer.ts`); without, plain HTTP.
 *
 * Its own HTTP requests are not traced: scrapes every few seconds would drown the request spans.
 */
import { createServer } from "node:http"
import { HttpMiddleware, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer } from "effect"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import { Health } from "../services/Health.js"
import { makePrometheusScrape, PROMETHEUS_CONTENT_TYPE } from "./prometheus.js"
import { layerStatusClient } from "./statusClient.js"
import { layerTlsHttpServer } from "./tlsHttpServer.js"

export interface StatusServerOptions {
  readonly host: string
  readonly port: number
}

const baseRoutes = (scrape: Effect.Effect<string>) =>
  HttpRouter.empty.pipe(
    HttpRouter.get(
      "/metrics",
      Effect.gen(function* () {
        const health = yield* Health
        yield* health.sample
        return HttpServerResponse.text(yield* scrape, { contentType: PROMETHEUS_CONTENT_TYPE })
      })
    ),
    HttpRouter.get(
      "/health",
      Effect.map(Health, (h) => HttpServerResponse.unsafeJson({ status: "ok", service: h.service }))
    ),
    HttpRouter.get(
      "/ready",
      Effect.gen(function* () {
        const readiness = yield* (yield* Health).ready
        return HttpServerResponse.unsafeJson(
          { ready: readiness.ready, ...readiness.detail },
          { status: readiness.ready ? 200 : 503 }
        )
      })
    )
  )

/** Just the HTTP app over `HttpServer`, for tests that bind their own server. */
export const layerStatusApp = <E = never, R = never>(
  serviceName: string,
  routes: HttpRouter.HttpRouter<E, R> = HttpRouter.empty as HttpRouter.HttpRouter<E, R>
) =>
  Layer.unwrapScoped(
    Effect.map(makePrometheusScrape(serviceName), (scrape) =>
      HttpServer.serve(HttpRouter.concat(baseRoutes(scrape), routes)).pipe(
        HttpMiddleware.withTracerDisabledWhen(() => true)
      )
    )
  )

/**
 * The status listener on `host:port` for the `Health` in context; its `HttpServer` (the bound address:
 * port 0 picks a free one) is an output. HTTPS with mutual TLS when `credentials` are given.
 */
export const layerStatusServer = <E = never, R = never>(
  options: StatusServerOptions,
  serviceName: string,
  routes?: HttpRouter.HttpRouter<E, R>,
  credentials?: TlsCredentials | undefined
) =>
  layerStatusApp(serviceName, routes).pipe(
    Layer.provide(layerStatusClient(credentials)),
    Layer.provideMerge(
      credentials === undefined
        ? NodeHttpServer.layer(() => createServer(), { host: options.host, port: options.port })
        : layerTlsHttpServer({ host: options.host, port: options.port }, credentials)
    )
  )
