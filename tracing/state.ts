import { trace, type Tracer } from "@opentelemetry/api";
import meta from "./deno.json" with { type: "json" };

/** The tracing module's name and version (from its `deno.json`), as the instrumentation scope. */
export const SCOPE: string = meta.name;
export const VERSION: string = meta.version;

/**
 * Who records spans right now: `sdk` (a provider from `createTracing`),
 * `deno` (Deno's built-in OpenTelemetry, `OTEL_DENO=true`), or `off`.
 */
export type Mode = "sdk" | "deno" | "off";

let sdkTracer: Tracer | undefined;
let denoBuiltIn: boolean | undefined;
let denoTracer: Tracer | undefined;

interface DenoTelemetry {
  telemetry?: { tracerProvider?: unknown };
}

/**
 * Whether Deno's built-in OpenTelemetry is on: it then registers its own
 * tracer provider as the `@opentelemetry/api` global before any user code
 * runs, which is what this compares (no environment permission needed).
 */
export function denoTelemetryActive(): boolean {
  if (denoBuiltIn === undefined) {
    const deno = (globalThis as { Deno?: DenoTelemetry }).Deno;
    const provider = deno?.telemetry?.tracerProvider;
    denoBuiltIn = provider !== undefined &&
      trace.getTracerProvider() === provider;
  }
  return denoBuiltIn;
}

/** The current mode; cheap enough to ask on every request. */
export function mode(): Mode {
  if (denoTelemetryActive()) return "deno";
  return sdkTracer === undefined ? "off" : "sdk";
}

/** The tracer spans are started with, or `undefined` when off. */
export function tracer(): Tracer | undefined {
  if (denoTelemetryActive()) {
    return denoTracer ??= trace.getTracer(SCOPE, VERSION);
  }
  return sdkTracer;
}

/** Installs (or, with `undefined`, removes) the SDK tracer. */
export function setSdkTracer(t: Tracer | undefined): void {
  sdkTracer = t;
}
