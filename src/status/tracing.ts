/**
 * Tracing export: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the
 * process's spans — the RPC client and server spans, and the store's `raft.propose` / `raft.apply` — go to
 * that OpenTelemetry collector over OTLP/HTTP, batched, as service `serviceName`. When neither is set the
 * tracer is switched off: spans cost nothing, the RPC layers do not even create theirs, and the
 * OpenTelemetry libraries are not loaded.
 */
import { Config, Effect, Layer, Option } from "effect"

const layerOtlp = (serviceName: string) =>
  Layer.unwrapEffect(
    Effect.promise(async () => {
      const [NodeSdk, { OTLPTraceExporter }, { BatchSpanProcessor }] = await Promise.all([
        import("@effect/opentelemetry/NodeSdk"),
        import("@opentelemetry/exporter-trace-otlp-http"),
        import("@opentelemetry/sdk-trace-base")
      ])
      return Layer.discard(
        NodeSdk.layer(() => ({
          resource: { serviceName, serviceVersion: "0.1.0" },
          spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter())
        }))
      )
    })
  )

/** True when an OTLP endpoint for traces is configured in the environment. */
export const tracingConfigured: Effect.Effect<boolean> = Effect.map(
  Config.all([
    Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
    Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
  ]),
  ([all, traces]) => Option.isSome(all) || Option.isSome(traces)
).pipe(Effect.orElseSucceed(() => false))

/**
 * The OTLP exporter when configured, else the tracer switched off. Provide it to the whole program: what
 * it sets must be in place before the RPC layers are built.
 */
export const layerTracing = (serviceName: string): Layer.Layer<never> =>
  Layer.unwrapEffect(
    Effect.map(tracingConfigured, (configured) => (configured ? layerOtlp(serviceName) : Layer.setTracerEnabled(false)))
  )
