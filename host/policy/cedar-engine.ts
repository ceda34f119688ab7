/**
 * Policy-as-code with Cedar (`@cedar-policy/cedar-wasm`, the Rust engine compiled to wasm): the same
 * policy text and request give the same answer on every peer. A Ripple Policy's text may hold several
 * Cedar statements; each is evaluated under the id `<policy id>#<n>` and reported by its policy id.
 *
 * With no policy published at all, everything is allowed (a fresh mesh must run tasks). Once any
 * policy exists, Cedar's own semantics decide: a request is allowed only if some statement permits it
 * and none forbids it; a text that does not parse denies everything (fail closed).
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs'
import type { Policy } from '../../zomes-bindings/index.ts'

/** The actions policies gate, as Cedar `Action::"<name>"`. */
export const POLICY_ACTIONS = ['claim', 'assign', 'run', 'pin', 'memory_serve'] as const
export type PolicyAction = (typeof POLICY_ACTIONS)[number]

export type CedarValue = cedar.CedarValueJson
export type CedarEntity = cedar.EntityJson

export interface PolicyRequest {
  /** The agent acting (HoloHashB64): `Agent::"<key>"`. */
  principal: string
  action: PolicyAction
  /** e.g. { type: 'Task', id: '<action hash>' }. */
  resource: { type: string; id: string }
  /** The principal, the resource and any entity they refer to, with their attributes. */
  entities: CedarEntity[]
  context: Record<string, CedarValue>
}

export interface PolicyVerdict {
  allowed: boolean
  /** The Ripple policies that decided (the permitting or forbidding ones). */
  policyIds: string[]
  reason: string
  /** A denial that lifts by itself (usage-policy.ts): seconds until it would be allowed. */
  retryAfterS?: number
}

/** Why a policy text is not valid Cedar, or null when it parses. */
export function cedarSyntaxError(text: string): string | null {
  const answer = cedar.checkParsePolicySet({ staticPolicies: text })
  return answer.type === 'success' ? null : answer.errors.map((e) => e.message).join('; ')
}

/** With no policy published, everything is allowed (a fresh mesh must run tasks). */
export const NO_POLICY_VERDICT: Readonly<PolicyVerdict> = {
  allowed: true,
  policyIds: [],
  reason: 'no policies are published',
}

export function evaluatePolicies(policies: readonly Policy[], request: PolicyRequest): PolicyVerdict {
  if (policies.length === 0) return { ...NO_POLICY_VERDICT }
  const prepared = preparedSet(policies)
  if ('denied' in prepared) return prepared.denied
  const answer = cedar.statefulIsAuthorized({
    principal: { type: 'Agent', id: request.principal },
    action: { type: 'Action', id: request.action },
    resource: request.resource,
    context: request.context,
    preparsedPolicySetId: prepared.id,
    entities: request.entities,
  })
  if (answer.type === 'failure') {
    return {
      allowed: false,
      policyIds: [],
      reason: `policy evaluation failed: ${answer.errors.map((e) => e.message).join('; ')}`,
    }
  }
  const { decision, diagnostics } = answer.response
  const policyIds = [...new Set(diagnostics.reason.map((id) => id.slice(0, id.lastIndexOf('#'))))]
  const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`)
  const allowed = decision === 'allow'
  const reason = allowed
    ? `permitted by ${policyIds.join(', ')}`
    : policyIds.length > 0
      ? `forbidden by ${policyIds.join(', ')}`
      : `no policy permits ${request.action}`
  return {
    allowed,
    policyIds,
    reason: errors.length > 0 ? `${reason} (errors: ${errors.join('; ')})` : reason,
  }
}

/**
 * The policy set as Cedar keeps it parsed (its thread-local cache, under one id): parsed again only
 * when the policies changed, not at every decision (about 1.3 ms for two policies, twice a request).
 */
const PREPARSED_ID = 'ripple-policies'
let prepared: { key: string; answer: { id: string } | { denied: PolicyVerdict } } | null = null

function preparedSet(policies: readonly Policy[]): { id: string } | { denied: PolicyVerdict } {
  const key = JSON.stringify(policies.map((p) => [p.id, p.text]))
  if (prepared?.key === key) return prepared.answer
  prepared = { key, answer: prepare(policies) }
  return prepared.answer
}

function prepare(policies: readonly Policy[]): { id: string } | { denied: PolicyVerdict } {
  const statements: Record<string, string> = {}
  for (const policy of policies) {
    const parts = cedar.policySetTextToParts(policy.text)
    if (parts.type === 'failure') {
      const why = parts.errors.map((e) => e.message).join('; ')
      return {
        denied: {
          allowed: false,
          policyIds: [policy.id],
          reason: `policy ${policy.id} does not parse: ${why}`,
        },
      }
    }
    parts.policies.forEach((text, i) => {
      statements[`${policy.id}#${i}`] = text
    })
  }
  const parsed = cedar.preparsePolicySet(PREPARSED_ID, { staticPolicies: statements })
  if (parsed.type === 'failure') {
    const why = parsed.errors.map((e) => e.message).join('; ')
    return { denied: { allowed: false, policyIds: [], reason: `policy evaluation failed: ${why}` } }
  }
  return { id: PREPARSED_ID }
}
