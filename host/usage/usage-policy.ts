/**
 * The requester's recent usage in the policies' context (issue 47, point 2): what this peer served
 * it in the last hour and day, from the leaves it signed, so a runner's Cedar policies can limit a
 * member by its usage ("no more than 2M tokens a day to members outside my team").
 */
import { evaluatePolicies } from '../policy/cedar-engine.ts'
import type { PoliciesPort } from '../policy/policies-port.ts'
import { type DecisionInput, runPolicyRequest } from '../policy/run-question.ts'
import type { UsagePort } from './usage-port.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** The requester's usage here: requests and tokens served to it in the last hour and the last day. */
export function usageContext(usage: Pick<UsagePort, 'servedTo'>, requester: string, now: number) {
  const hour = usage.servedTo(requester, now - HOUR_MS)
  const day = usage.servedTo(requester, now - DAY_MS)
  return {
    requester_requests_hour: hour.requests,
    requester_tokens_hour: hour.tokens,
    requester_requests_day: day.requests,
    requester_tokens_day: day.tokens,
  }
}

/**
 * The policies, deciding with the requester's recent usage in their context beside what the caller
 * gives. A denial says when it lifts by itself (`retryAfterS`): the first hour boundary of the next
 * 25 hours (the day's window counts whole hours) at which, with the usage as it will then count
 * (older hours out of the window, nothing new), the policies would allow it; none when no such
 * boundary (a denial on slots or on who asks).
 */
export function withRecentUsage(
  policies: Pick<PoliciesPort, 'decide' | 'list'>,
  usage: Pick<UsagePort, 'servedTo'>,
  now: () => number = Date.now,
): Pick<PoliciesPort, 'decide'> {
  const withUsage = (input: DecisionInput, used: () => ReturnType<typeof usageContext>): DecisionInput => ({
    ...input,
    context: () => ({ ...input.context?.(), ...used() }),
  })
  return {
    decide: async (input: DecisionInput) => {
      const t = now()
      // Read only when a policy is evaluated: with none, an admit reads no usage at all.
      let read: ReturnType<typeof usageContext> | null = null
      const current = () => {
        read ??= usageContext(usage, input.run.requester, t)
        return read
      }
      const verdict = await policies.decide(withUsage(input, current))
      if (verdict.allowed) return verdict
      let used = current()
      // What-ifs are evaluated, not decided: the audit trail records only the decision made.
      const texts = (await policies.list()).map((p) => p.entry)
      for (
        let boundary = (Math.floor(t / HOUR_MS) + 1) * HOUR_MS;
        boundary <= t + DAY_MS + HOUR_MS;
        boundary += HOUR_MS
      ) {
        const then = usageContext(usage, input.run.requester, boundary)
        // The same usage decides the same way: only a boundary where a count drops is asked.
        if (Object.entries(then).every(([k, v]) => used[k as keyof typeof used] === v)) continue
        used = then
        if (evaluatePolicies(texts, runPolicyRequest(withUsage(input, () => then))).allowed)
          return { ...verdict, retryAfterS: Math.ceil((boundary - t) / 1000) }
      }
      return verdict
    },
  }
}
