/**
 * What the rest of the node asks of this peer's policies: the runners' and the scheduler's decisions,
 * the API's list and publish, and the scheduler's word that new policy records were stored.
 */
import type { EntryRecord, Policy, RecordRef } from '../../zomes-bindings/index.ts'
import type { PolicyVerdict } from './cedar-engine.ts'
import type { DecisionInput } from './run-question.ts'

/** What a person gives to publish a policy; the version defaults to the next one. */
export interface PolicyDraft {
  id: string
  text: string
  description?: string
  version?: number
}

export interface PoliciesPort {
  /** The latest version of each policy, as published (read through a short cache). */
  list(): Promise<EntryRecord<Policy>[]>
  /** Forgets the cached policies (new policy records were stored). */
  invalidate(): void
  /** Decides an action on a run for `input.subject`, recording the Decision when the audit trail wants it. */
  decide(input: DecisionInput): Promise<PolicyVerdict>
  /** Publishes a policy as this agent; InvalidPolicyTextError when its Cedar text is not valid. */
  publish(draft: PolicyDraft): Promise<RecordRef>
}
