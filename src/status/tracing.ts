/**
 * Tracing export: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the
 * process's spans — the RPC client and server spans, and the store's `raft.propose` / `raft.apply` — go to
 * that OpenTelemetry collector over OTLP/HTTP, batched, as service `serviceName`. When neither is set the
 * tracer is switched off: spans cost nothing, and the RPC layers do not even create theirs.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Config, Effect, Layer, Option } from "effect"

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
    Effect.map(tracingConfigured, (configured) =>
      configured
        ? Layer.discard(
            NodeSdk.layer(() => ({
              resource: { serviceName, serviceVersion: "0.1.0" },
              spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter())
            }))
          )
        : Layer.setTracerEnabled(false)
    )
  )
