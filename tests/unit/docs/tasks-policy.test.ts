/**
 * The Cedar example on the docs' tasks page (docs/tasks.md), run as written there: a policy that
 * permits everything and forbids running `sha256` tasks lets this peer run an `echo` task, refuses a
 * `sha256` one, and still lets it claim the `sha256` one (only `run` is forbidden).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import { taskQuestion } from '../../../host/policy/run-question.ts'
import type { Policy } from '../../../zomes-bindings/index.ts'
import { task } from '../scheduler/fixtures.ts'

const ME = 'uhCAkRunner'
const PAGE = readFileSync(new URL('../../../docs/tasks.md', import.meta.url), 'utf8')
const EXAMPLES = [...PAGE.matchAll(/```cedar\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')

function policiesOf(text: string) {
  const policy = {
    action_hash: 'uhCkkPolicy0',
    author: ME,
    timestamp: 1,
    entry: { id: 'p0', version: 1, text, description: '', admin_grant: null } satisfies Policy,
  }
  const conductor = {
    agentPubKey: ME,
    callZome: async (_dna: string, fn: string) => (fn === 'list_policies' ? [policy] : {}),
  } as unknown as Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  return new PolicyService({ conductor, cacheMs: 0, logger: silentLogger() })
}

const ask = (action: 'run' | 'claim', kind: string) => ({
  action,
  subject: ME,
  snapshot: null,
  run: taskQuestion({ action_hash: 'uhCkkTask', author: 'uhCAkAsker', timestamp: 1, entry: task({ kind }) }),
  decidedBy: ME,
})

describe('the tasks page’s Cedar example', () => {
  it('is on the page', () => {
    expect(EXAMPLES).toHaveLength(1)
  })

  it('runs anything but sha256 tasks', async () => {
    const policies = policiesOf(EXAMPLES[0] ?? '')
    expect((await policies.decide(ask('run', 'echo'))).allowed).toBe(true)
    expect((await policies.decide(ask('run', 'sha256'))).allowed).toBe(false)
    expect((await policies.decide(ask('claim', 'sha256'))).allowed).toBe(true)
  })
})
