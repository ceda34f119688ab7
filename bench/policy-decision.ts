/**
 * What a policy decision costs on a runner's path (two per request: claim and run): Ripple's
 * evaluatePolicies, which keeps the policy set parsed between decisions, against Cedar's stateless
 * isAuthorized given the same statements as text each time (the anchor, what it did before), for
 * 1, 2, 8 and 32 published policies. Run: `npm run bench policy-decision`.
 */

import { performance } from 'node:perf_hooks'
import * as cedar from '@cedar-policy/cedar-wasm/nodejs'
import { evaluatePolicies } from '../host/policy/cedar-engine.ts'
import { runPolicyRequest } from '../host/policy/run-question.ts'
import type { Policy } from '../zomes-bindings/index.ts'
import { round } from './measure.ts'
import type { BenchReport } from './report.ts'

const DECISIONS = 400
const WARMUP = 200

const policy = (i: number): Policy => ({
  id: `policy-${i}`,
  version: 1,
  text:
    i === 0
      ? 'permit(principal, action, resource);'
      : `forbid(principal, action == Action::"run", resource) when { resource.kind == "kind-${i}" } unless { principal.tags.contains("trusted") };`,
  description: '',
  admin_grant: null,
})

const request = runPolicyRequest({
  action: 'run',
  subject: 'uhCAkRunner',
  snapshot: {
    cores: 8,
    ram_bytes: 32 * 1024 ** 3,
    vram_bytes: 0,
    gpu_count: 0,
    models: ['m'],
    loaded_models: ['m'],
    tags: ['trusted'],
    queue_depth: 0,
  },
  run: {
    id: 'uhCkkTask',
    requester: 'uhCAkRequester',
    kind: 'infer.generate',
    input_bytes: 28,
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 0, model: 'm', tags: [] },
    lease_ms: 60_000,
    max_attempts: 3,
    fan_out: 1,
  },
  decidedBy: 'uhCAkRunner',
})

/** Mean ms per call of `decide`, after a warm-up. */
function perCall(decide: () => boolean): number {
  for (let i = 0; i < WARMUP; i++) decide()
  const startedAt = performance.now()
  for (let i = 0; i < DECISIONS; i++) if (!decide()) throw new Error('the bench request must be allowed')
  return (performance.now() - startedAt) / DECISIONS
}

export default async function run(): Promise<BenchReport> {
  const rows: Record<string, string | number>[] = []
  const figures: Record<string, number> = {}
  for (const count of [1, 2, 8, 32]) {
    const policies = Array.from({ length: count }, (_, i) => policy(i))
    const statements = Object.fromEntries(policies.map((p) => [`${p.id}#0`, p.text]))
    const stateless = perCall(
      () =>
        cedar.isAuthorized({
          principal: { type: 'Agent', id: request.principal },
          action: { type: 'Action', id: request.action },
          resource: request.resource,
          context: request.context,
          policies: { staticPolicies: statements },
          entities: request.entities,
        }).type === 'success',
    )
    const prepared = perCall(() => evaluatePolicies(policies, request).allowed)
    figures[`policies_${count}_stateless_ms`] = round(stateless, 3)
    figures[`policies_${count}_ripple_ms`] = round(prepared, 3)
    figures[`policies_${count}_ratio`] = round(prepared / stateless, 3)
    rows.push({
      policies: count,
      'cedar isAuthorized, text each time (ms)': round(stateless, 3),
      'ripple evaluatePolicies, set kept parsed (ms)': round(prepared, 3),
      'ripple / cedar': round(prepared / stateless, 3),
    })
  }
  return {
    name: 'policy-decision',
    note: `one run decision of a task, mean of ${DECISIONS} after ${WARMUP} warm-up, in this process`,
    rows,
    figures,
  }
}
