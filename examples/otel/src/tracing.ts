import { createRequire } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type express from 'express';
import type { fastify } from 'fastify';

/** What {@link setupTracing} returns: the provider and the frameworks, loaded after patching. */
export interface Tracing {
  provider: NodeTracerProvider;
  /** `express`, required after instrumentation-express was enabled (so its layers get spans). */
  express: typeof express;
  /** `fastify`, required after the instrumentations were enabled. */
  Fastify: typeof fastify;
  /** Register `fastifyOtel.plugin()` on a Fastify app BEFORE meshless: hooks added later get spans. */
  fastifyOtel: FastifyOtelInstrumentation;
  /** Disables the instrumentations and shuts the provider down. */
  shutdown(): Promise<void>;
}

/**
 * Installs the OpenTelemetry SDK 2.x the way an application does at startup: a global
 * `NodeTracerProvider` (`register()` also installs the AsyncLocalStorage context manager and the
 * W3C propagator), then instrumentation-http (SERVER spans), instrumentation-express (layer
 * spans) and `@fastify/otel` (request and hook spans).
 *
 * Instrumentations patch modules when they are `require`d. Static `import express from 'express'`
 * is hoisted above any code in the importing module and, in an ESM program, is not seen by the
 * require hook at all, so express/fastify are loaded here, with `createRequire`, after
 * `registerInstrumentations`. (`node:http`/`node:https` are patched on `Server.prototype.emit`,
 * which works whichever way they were imported.)
 */
export function setupTracing(options: {
  spanProcessors: SpanProcessor[];
  serviceName?: string;
}): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'otel-example' }),
    spanProcessors: options.spanProcessors,
  });
  provider.register();
  const fastifyOtel = new FastifyOtelInstrumentation();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Only the server side: the example's client calls would otherwise be the trace roots.
        disableOutgoingRequestInstrumentation: true,
        // The in-process OTLP receiver's own requests would be traced (and exported) too.
        ignoreIncomingRequestHook: (req) => req.url === '/v1/traces',
      }),
      new ExpressInstrumentation(),
      fastifyOtel,
    ],
  });
  const require = createRequire(import.meta.url);
  // Trigger the require hooks for the core modules (already loaded by the test runner or us).
  require('node:http');
  require('node:https');
  const expressModule = require('express') as typeof express;
  const fastifyModule = require('fastify') as typeof fastify;
  return {
    provider,
    express: expressModule,
    Fastify: fastifyModule,
    fastifyOtel,
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
