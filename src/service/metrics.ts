import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of their own (several services in one
 * process, as in tests, never collide). Served at `/metrics`.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly commands = new Counter({
    name: 'procreg_commands_total',
    help: 'Registry operations served, by operation name and outcome (ok or the error code)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly appendSeconds = new Histogram({
    name: 'procreg_append_duration_seconds',
    help: 'Time to serve appendEvent/appendEvents, request in to response out',
    labelNames: ['operation'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly openWaiters = new Gauge({
    name: 'procreg_open_waiters',
    help: 'waitEventAfter / awaitProcess requests waiting right now',
    registers: [this.registry],
  });
  readonly sseClients = new Gauge({
    name: 'procreg_sse_clients',
    help: 'Server-Sent Event streams open right now',
    registers: [this.registry],
  });
  readonly projectionLag = new Gauge({
    name: 'procreg_projection_lag_events',
    help: 'Events in the store log not yet applied to this service’s read models (at scrape time)',
    registers: [this.registry],
  });
  readonly feedSubscribers = new Gauge({
    name: 'procreg_feed_subscribers',
    help: 'Live-feed subscriptions inside the registry (waiters and streams)',
    registers: [this.registry],
  });
}
