/**
 * `docs/reference/metrics.md`: the Prometheus metrics the daemon serves at `/metrics`, read from a
 * registry set up as the daemon sets it up (its own metrics and the usage counters); prom-client's
 * default process and Node.js metrics are named once, since which of them exist depends on the OS.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { DaemonMetrics } from '../../host/metrics/daemon-metrics.ts'
import { usageCounters } from '../../host/metrics/usage-metrics.ts'
import { code, generatedNote, inline, table } from './markdown.ts'

const PREFIX = 'ripple_'

export function metricsPage(): string {
  const none = async () => ({ peers: [], warrants: [] })
  const metrics = new DaemonMetrics({ peers: none, tasks: async () => [], replication: () => null })
  usageCounters(metrics.registry)
  const defaults = new Registry()
  collectDefaultMetrics({ register: defaults, prefix: PREFIX })
  const standard = new Set(defaults.getMetricsAsArray().map((m) => m.name))
  const own = metrics.registry.getMetricsAsArray().filter((m) => !standard.has(m.name))
  return [
    generatedNote('the metrics registry in `host/metrics`'),
    '',
    '# Metrics',
    '',
    'The daemon serves Prometheus metrics at `GET /metrics` on its API address; like the management API, ' +
      'the scrape needs the API token (`Authorization: Bearer TOKEN`). Gauges are read when scraped.',
    '',
    table(
      ['Metric', 'Type', 'Labels', 'What it counts'],
      own.map((m) => {
        const labels = (m as unknown as { labelNames: readonly string[] }).labelNames
        return [code(m.name), String(m.type), labels.map(code).join(', '), inline(m.help)]
      }),
    ),
    '',
    `Besides these, prom-client's default metrics of the process and of Node.js, each named with the ` +
      `prefix ${code(PREFIX)} (${code(`${PREFIX}process_cpu_seconds_total`)}, ` +
      `${code(`${PREFIX}nodejs_heap_size_used_bytes`)}, ...).`,
    '',
  ].join('\n')
}
