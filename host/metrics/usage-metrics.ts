/**
 * Prometheus counters of usage from the record (issue 47): requests, tokens and busy engine seconds,
 * by direction (`served`: this peer ran it for the member; `used`: the member ran it for this peer),
 * member and model, counted as each window of leaves is signed.
 */
import { Counter, type Registry } from 'prom-client'
import type { UsageEvent } from '../usage/usage-totals.ts'

const LABELS = ['direction', 'member', 'model'] as const

export function usageCounters(registry: Registry): (events: readonly UsageEvent[]) => void {
  const registers = [registry]
  const requests = new Counter({
    name: 'ripple_usage_requests_total',
    help: 'Requests in signed leaves, by direction (served/used), member and model',
    labelNames: LABELS,
    registers,
  })
  const tokens = new Counter({
    name: 'ripple_usage_tokens_total',
    help: 'Tokens in signed leaves (kind in/out; reasoning as this peer noted it), by direction, member and model',
    labelNames: [...LABELS, 'kind'],
    registers,
  })
  const busy = new Counter({
    name: 'ripple_usage_busy_seconds_total',
    help: 'Seconds a slot of the runner was busy, from the signed leaves, by direction, member and model',
    labelNames: LABELS,
    registers,
  })
  return (events) => {
    for (const e of events) {
      const labels = { direction: e.direction, member: e.member, model: e.model }
      requests.inc(labels)
      tokens.inc({ ...labels, kind: 'in' }, e.tokensIn)
      tokens.inc({ ...labels, kind: 'out' }, e.tokensOut)
      tokens.inc({ ...labels, kind: 'reasoning' }, e.reasoning)
      busy.inc(labels, e.busyS)
    }
  }
}
