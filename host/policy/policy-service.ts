/**
 * The policies of the mesh as this host applies them: the latest version of each policy id from
 * policy_store (cached briefly: every claim, assignment and run asks), Cedar to decide, and the
 * audit trail: a Decision entry for every denial and for every decision about another agent, but for
 * a request routed straight to its runner (`trail: 'local'`), whose denial stays in this peer's log:
 * a public one would pair its requester with its runner for every peer (issue 55, point 6).
 */

import { type EntryRecord, fitText, LIMITS, type Policy, type RecordRef } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Failure } from '../interface/failure-kind.ts'
import type { Logger } from '../log/logger.ts'
import { cedarSyntaxError, evaluatePolicies, NO_POLICY_VERDICT, type PolicyVerdict } from './cedar-engine.ts'
import { LocalDenials } from './local-denials.ts'
import type { PoliciesPort, PolicyDraft } from './policies-port.ts'
import { type DecisionInput, decisionContext, runPolicyRequest } from './run-question.ts'

export interface PolicyServiceInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  /** How long the policy list is reused before it is read again; default 1 s. */
  cacheMs?: number
  logger: Logger
}

/** Thrown when a policy's text is not valid Cedar (it would deny everything once published). */
export class InvalidPolicyTextError extends Error {
  static override readonly name = 'InvalidPolicyTextError'
  readonly failureKind: Failure = 'invalid'
  constructor(
    readonly id: string,
    detail: string,
  ) {
    super(`policy ${id} is not valid Cedar: ${detail}`)
    this.name = 'InvalidPolicyTextError'
  }
}

const DEFAULT_CACHE_MS = 1000
/** The part of the cache's age after which a read is answered from it and refreshed behind. */
const REFRESH_AHEAD = 0.5
const RECORDED_LIMIT = 4096

export class PolicyService implements PoliciesPort {
  readonly #init: PolicyServiceInit
  #cached: { at: number; policies: EntryRecord<Policy>[] } | null = null
  #reading: Promise<EntryRecord<Policy>[]> | null = null
  /** Bumped by each invalidation: a read begun before it is not cached. */
  #generation = 0
  /** Decisions already recorded (subject, action, task, verdict), oldest first. */
  readonly #recorded = new Set<string>()
  readonly #local: LocalDenials

  constructor(init: PolicyServiceInit) {
    this.#init = init
    this.#local = new LocalDenials(init.logger)
  }

  /**
   * The latest version of each policy, as published. Read at most `cacheMs` ago; one read past
   * REFRESH_AHEAD of that is answered from the cache while a fresh read runs, so a steady stream of
   * requests never waits for the zome call in its own path.
   */
  async list(): Promise<EntryRecord<Policy>[]> {
    const maxAge = this.#init.cacheMs ?? DEFAULT_CACHE_MS
    const age = this.#cached === null ? Number.POSITIVE_INFINITY : Date.now() - this.#cached.at
    if (this.#cached !== null && age <= maxAge * REFRESH_AHEAD) return this.#cached.policies
    const reading = this.#read()
    if (this.#cached !== null && age <= maxAge) {
      reading.catch(() => {})
      return this.#cached.policies
    }
    return reading
  }

  #read(): Promise<EntryRecord<Policy>[]> {
    if (this.#reading) return this.#reading
    const generation = this.#generation
    const at = Date.now()
    const reading = this.#init.conductor
      .callZome('policy_store', 'list_policies', null)
      .then((policies) => {
        // A read that an invalidation overtook is not kept; a failed one neither (the next ask reads).
        if (generation === this.#generation) this.#cached = { at, policies }
        return policies
      })
      .finally(() => {
        if (this.#reading === reading) this.#reading = null
      })
    this.#reading = reading
    return reading
  }

  /** Forgets the cached policies (new policy records were stored). */
  invalidate(): void {
    this.#cached = null
    this.#reading = null
    this.#generation += 1
  }

  /**
   * Decides an action on a run (a task, or a request routed straight here) for `input.subject`,
   * recording the Decision when the audit trail wants it.
   */
  async decide(input: DecisionInput): Promise<PolicyVerdict> {
    const policies = (await this.list()).map((p) => p.entry)
    // None published: allowed, and nothing to record (an allowed assignment is on record as the signed
    // Assignment itself); a runner asks twice a request, so the Cedar request is not even built.
    if (policies.length === 0) return { ...NO_POLICY_VERDICT }
    const verdict = evaluatePolicies(policies, runPolicyRequest(input))
    if (input.trail === 'local') {
      if (!verdict.allowed) this.#local.note(input, verdict)
      return verdict
    }
    const key = [input.subject, input.action, input.run.id, verdict.allowed, verdict.reason].join('|')
    // A host asks again about a task it declined; the trail needs each decision once, not each time.
    const aboutAnother = input.subject !== this.#init.conductor.agentPubKey
    if ((!verdict.allowed || aboutAnother) && !this.#recorded.has(key)) {
      try {
        await this.#record(input, verdict)
        this.#recorded.add(key)
        if (this.#recorded.size > RECORDED_LIMIT) this.#recorded.delete(this.#recorded.values().next().value!)
      } catch (err) {
        this.#init.logger.warn({ err, task: input.run.id }, 'could not record a policy decision')
      }
    }
    return verdict
  }

  /**
   * Publishes a policy as this agent: the Cedar text is checked first, the version defaults to one
   * above the latest, and the AdminGrant this agent holds (if it is not the progenitor) is cited.
   * The rules on every peer still decide whether this agent may.
   */
  async publish(draft: PolicyDraft): Promise<RecordRef> {
    const syntax = cedarSyntaxError(draft.text)
    if (syntax !== null) throw new InvalidPolicyTextError(draft.id, syntax)
    const { conductor } = this.#init
    const [policies, admins] = await Promise.all([
      conductor.callZome('policy_store', 'list_policies', null),
      conductor.callZome('policy_store', 'list_admins', null),
    ])
    const latest = policies.find((p) => p.entry.id === draft.id)
    const grant = admins.find((g) => g.entry.agent === conductor.agentPubKey)
    const ref = await conductor.callZome('policy_store', 'publish_policy', {
      id: draft.id,
      version: draft.version ?? (latest?.entry.version ?? 0) + 1,
      text: draft.text,
      description: draft.description ?? '',
      admin_grant: grant?.action_hash ?? null,
    })
    this.invalidate()
    return ref
  }

  #record(input: DecisionInput, verdict: PolicyVerdict) {
    return this.#init.conductor.callZome('policy_store', 'record_decision', {
      subject: input.subject,
      action: input.action,
      resource: `Task::"${input.run.id}"`,
      allowed: verdict.allowed,
      policy_ids: verdict.policyIds.slice(0, LIMITS.decision.policy_ids.max),
      reason: fitText(verdict.reason, LIMITS.reason.max, true),
      context: decisionContext(input),
    })
  }
}
