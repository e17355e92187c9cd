/**
 * `/metrics`: every Effect `Metric` of the process (Effect's global registry) in the Prometheus text
 * format. @effect/opentelemetry turns the registry into OpenTelemetry metric data, and the OpenTelemetry
 * Prometheus exporter's serializer writes the text; its own HTTP server is not started — the status
 * listener serves the text. Those libraries load only when a listener starts: the command line's client
 * commands, which never start one, do not pay for loading them.
 */
import { Effect, type Scope } from "effect"

/** Prometheus' content type for the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** A scrape of this process's metrics; `serviceName` labels `target_info`. Unregistered when the scope closes. */
export const makePrometheusScrape = (serviceName: string): Effect.Effect<Effect.Effect<string>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const [OtelMetrics, OtelResource, { PrometheusExporter, PrometheusSerializer }] = yield* Effect.promise(() =>
      Promise.all([
        import("@effect/opentelemetry/Metrics"),
        import("@effect/opentelemetry/Resource"),
        import("@opentelemetry/exporter-prometheus")
      ])
    )
    const exporter = new PrometheusExporter({ preventServerStart: true })
    const producer = yield* OtelMetrics.makeProducer.pipe(
      Effect.provide(OtelResource.layer({ serviceName, serviceVersion: "0.1.0" }))
    )
    yield* OtelMetrics.registerProducer(producer, () => exporter)
    // no per-series scope labels: every metric here comes from the one Effect registry
    const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
    return Effect.promise(() => exporter.collect()).pipe(
      Effect.map(({ resourceMetrics }) => serializer.serialize(resourceMetrics))
    )
  })
