/**
 * The requester's recent usage in the policies' context (issue 47, point 2): what this peer served
 * it in the last hour and day, from the leaves it signed, so a runner's Cedar policies can limit a
 * member by its usage ("no more than 2M tokens a day to members outside my team").
 */
import type { PolicyService } from '../policy/policy-service.ts'
import type { TaskDecisionInput } from '../policy/task-request.ts'
import type { UsageLedger } from './usage-ledger.ts'

const HOUR_MS = 3_600_000

/** The requester's usage here: requests and tokens served to it in the last hour and the last day. */
export function usageContext(usage: Pick<UsageLedger, 'servedTo'>, requester: string, now: number) {
  const hour = usage.servedTo(requester, now - HOUR_MS)
  const day = usage.servedTo(requester, now - 24 * HOUR_MS)
  return {
    requester_requests_hour: hour.requests,
    requester_tokens_hour: hour.tokens,
    requester_requests_day: day.requests,
    requester_tokens_day: day.tokens,
  }
}

/** The policies, deciding with the requester's recent usage in their context beside what the caller gives. */
export function withRecentUsage(
  policies: Pick<PolicyService, 'decide'>,
  usage: Pick<UsageLedger, 'servedTo'>,
): Pick<PolicyService, 'decide'> {
  return {
    decide: (input: TaskDecisionInput) =>
      policies.decide({
        ...input,
        context: () => ({ ...input.context?.(), ...usageContext(usage, input.task.author, Date.now()) }),
      }),
  }
}
