import client from 'prom-client';
import type { Db } from '../db/db.ts';
import { streamBatchStats } from '../collections/stream.ts';
import { forcedCollections } from '../memory.ts';

/** Prometheus metrics for one app instance (its own registry, so tests can run several apps in a process). */
export interface Metrics {
  registry: client.Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(db: Db): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'sandbar_' });
  const requests = new client.Counter({
    name: 'sandbar_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'sandbar_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  new client.Gauge({
    name: 'sandbar_db_pool_in_use',
    help: 'Queries and transactions in flight per pool (postgres.js pipelines, so this may exceed the pool size).',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      const s = db.stats();
      this.set({ pool: 'hot' }, s.inFlight.hot);
      this.set({ pool: 'long' }, s.inFlight.long);
    },
  });
  new client.Gauge({
    name: 'sandbar_db_long_slots_held',
    help: 'Long-pool slots held by running streams, merges and big deletes (at most sandbar_db_pool_max{pool="long"}); a stream holds one until its client has read it all.',
    registers: [registry],
    collect() {
      this.set(db.stats().longSlotsHeld);
    },
  });
  new client.Gauge({
    name: 'sandbar_db_long_waiting',
    help: 'Long work (streams, merges, big deletes) waiting for a long-pool slot; each waits at most SANDBAR_LONG_QUEUE_TIMEOUT_MS.',
    registers: [registry],
    collect() {
      this.set(db.stats().waitingForLong);
    },
  });
  new client.Gauge({
    name: 'sandbar_db_pool_max',
    help: 'Configured connections per pool.',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      const s = db.stats();
      this.set({ pool: 'hot' }, s.max.hot);
      this.set({ pool: 'long' }, s.max.long);
    },
  });
  new client.Counter({
    name: 'sandbar_gc_forced_total',
    help: 'Full garbage collections asked for because Buffer memory piled up (SANDBAR_GC_SLACK_MB, src/memory.ts).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(forcedCollections());
    },
  });
  new client.Counter({
    name: 'sandbar_stream_batches_total',
    help: 'Batches of items read for streams and downloads (each at most ~1 MB of item JSON plus one item, src/collections/stream.ts).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(streamBatchStats().batches);
    },
  });
  new client.Counter({
    name: 'sandbar_stream_batch_bytes_total',
    help: 'Bytes of item JSON read in those batches.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(streamBatchStats().bytes);
    },
  });
  new client.Gauge({
    name: 'sandbar_stream_batch_bytes_max',
    help: 'The largest batch since the process started, in bytes: what one stream held in memory at most.',
    registers: [registry],
    collect() {
      this.set(streamBatchStats().largest);
    },
  });
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
  };
}
