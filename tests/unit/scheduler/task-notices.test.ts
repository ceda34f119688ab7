/**
 * A sharded task's requester tells the capable peers that may not hold the task, and its assignees
 * (task-notices.ts): the rule of who is due a notice, its pacing, and a peer that hears nothing else
 * (no model, so no sweep; no record events about the task) running a task only it can meet.
 */
import { describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { NOTICE_AFTER_MS, noticesDue, RETELL_MS, TaskNotices } from '../../../host/scheduler/task-notices.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import type { Assignment, EntryRecord, TaskResult, TaskState } from '../../../zomes-bindings/index.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import {
  eventually,
  fixedHash,
  meshPerTest,
  okResultEntry,
  order,
  task,
  taskState,
  testHost,
} from './fixtures.ts'

const [me, b, c, d] = [1, 2, 3, 4].map((n) => fixedHash(n, 'agent')) as [string, string, string, string]
const TASK = fixedHash(10, 'action')
const [A1, A2] = [fixedHash(11, 'action'), fixedHash(12, 'action')]

/** Now (microseconds), and a record written a moment before it. */
const NOW = 10_000_000
const fresh = <R extends { timestamp: number }>(r: R): R => ({
  ...r,
  timestamp: NOW - NOTICE_AFTER_MS * 1000 + 1,
})
const record = <T>(hash: string, author: string, entry: T): EntryRecord<T> => ({
  action_hash: hash,
  author,
  timestamp: 1,
  entry,
})
const assignment = (hash: string, assignee: string, slot = 0, attempt = 1) =>
  record<Assignment>(hash, me, {
    ...{ task: TASK, claim: fixedHash(20, 'action'), assignee, slot, attempt },
    lease_expires_at: NOW + 1,
  })
const result = (assignment: string, by: string) =>
  record<TaskResult>(fixedHash(30, 'action'), by, okResultEntry(TASK, assignment, 'x', 1))
const claim = (by: string) => ({ action_hash: fixedHash(40, 'action'), author: by, timestamp: 1 })

const state = (s: Partial<TaskState> = {}) => taskState(record(TASK, me, task()), s)

describe('noticesDue', () => {
  const cases: [string, TaskState, string[], string[]][] = [
    ['open: every capable peer but the requester', state(), [me, b, c], [`${b} ${TASK}`, `${c} ${TASK}`]],
    ['one that claimed is not told', state({ claims: [claim(b)] as never }), [b, c], [`${c} ${TASK}`]],
    ['a capable peer counted twice is told once', state(), [b, b], [`${b} ${TASK}`]],
    [
      'the assignee, of its attempt, until its Result is in',
      state({ claims: [claim(b)] as never, assignments: [assignment(A1, b)], status: 'assigned' }),
      [b],
      [`${b} ${A1}`],
    ],
    [
      'assigned: a capable peer that did not claim is not told (no claim is waited for)',
      state({ claims: [claim(b)] as never, assignments: [assignment(A1, b)], status: 'assigned' }),
      [b, c],
      [`${b} ${A1}`],
    ],
    [
      'an attempt whose lease ran out: not its assignee; claims are waited for again',
      state({
        claims: [claim(b)] as never,
        assignments: [
          { ...assignment(A1, b), entry: { ...assignment(A1, b).entry, lease_expires_at: NOW - 1 } },
        ],
      }),
      [b, c],
      [`${c} ${TASK}`],
    ],
    [
      'a reassigned slot: the current attempt only',
      state({ assignments: [assignment(A1, b), assignment(A2, c, 0, 2)], status: 'assigned' }),
      [],
      [`${c} ${A2}`],
    ],
    [
      'an attempt with its Result in is not',
      state({ assignments: [assignment(A1, b)], results: [result(A1, b)], status: 'assigned' }),
      [],
      [],
    ],
    ['the requester assigned to itself is not', state({ assignments: [assignment(A1, me)] }), [], []],
    ['a finished task: nobody', state({ status: 'done' }), [b, c, d], []],
    ['a cancelled task: nobody', state({ status: 'cancelled' }), [b], []],
    ['none capable, none assigned: nobody', state(), [], []],
    [
      'a task written just now: not yet (its pushes under way)',
      state({ task: fresh(record(TASK, me, task())) }),
      [b],
      [],
    ],
    [
      'an assignment written just now: not yet',
      state({ assignments: [assignment(A1, b), fresh(assignment(A2, c, 1))], status: 'assigned' }),
      [],
      [`${b} ${A1}`],
    ],
  ]
  it.each(cases)('%s', (_, s, capable, expected) => {
    expect(noticesDue(s, capable, me, NOW).map((n) => `${n.to} ${n.about}`)).toEqual(expected)
  })
})

describe('TaskNotices', () => {
  it('tells each due once a period, tries a failed one again, and reads only its own signal', async () => {
    const sent: string[] = []
    let failing = c
    const heard: string[] = []
    const notices = new TaskNotices({
      conductor: {
        sendSignal: async (_dna, to, payload) => {
          if (to === failing) throw new Error('unreachable')
          sent.push(`${to} ${(payload as { task: string }).task}`)
        },
      },
      onNotice: (t) => heard.push(t),
      logger: silentLogger(),
    })
    const due = [
      { to: b, about: TASK },
      { to: c, about: TASK },
    ]
    await notices.tell(TASK, due, 0)
    expect(sent).toEqual([`${b} ${TASK}`])
    failing = ''
    await notices.tell(TASK, due, 1)
    expect(sent).toEqual([`${b} ${TASK}`, `${c} ${TASK}`])
    await notices.tell(TASK, due, RETELL_MS - 1)
    expect(sent).toHaveLength(2)
    // Its assignment is news, however soon.
    await notices.tell(TASK, [{ to: b, about: A1 }], RETELL_MS - 1)
    expect(sent).toEqual([`${b} ${TASK}`, `${c} ${TASK}`, `${b} ${TASK}`])
    await notices.tell(TASK, due, RETELL_MS)
    expect(sent).toHaveLength(4)
    const signal = (payload: unknown) => ({ dna: 'resource_mesh' as const, from: b, payload })
    expect(notices.onSignal(signal({ type: 'task-notice', task: TASK }))).toBe(true)
    expect(notices.onSignal(signal({ type: 'task-input-ask', task: TASK, assignment: A1 }))).toBe(false)
    expect(notices.onSignal(signal({ type: 'task-notice', task: 'not a hash' }))).toBe(false)
    expect(notices.onSignal({ ...signal({ type: 'task-notice', task: TASK }), dna: 'agent_registry' })).toBe(
      false,
    )
    expect(heard).toEqual([TASK])
  })
})

const { openMesh, hosts } = meshPerTest()

describe('a sharded task only a peer that hears nothing of it can run', () => {
  /**
   * The runner serves no model (so it never sweeps) and no stored record names the task to it: only a
   * notice does. `pastWalk`: the requester's capable members come from a walk (known-nodes.ts) whose
   * bound is lowered to 0, so the runner, the only member with the tag, lies past it.
   */
  async function runTagged(pastWalk: boolean) {
    const mesh = await openMesh(2)
    const [a, z] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const tagged = capability({ tags: ['only-z'], inference: { models: [], tokens_per_second: null } })
    await z.callZome('agent_registry', 'advertise_capability', tagged)
    const walk = (c: EmbeddedConductor) =>
      pastWalk
        ? {
            walkMax: 0,
            sharded: {
              now: () => true,
              members: () => [a.agentPubKey, z.agentPubKey],
              capabilityOf: (agent: string) => c.callZome('agent_registry', 'get_capability', agent),
            },
          }
        : {}
    // The requester runs nothing.
    const requester = testHost(a, { workers: new WorkerRegistry(), polling: () => true, ...walk(a) })
    const runner = testHost(z, {
      onRecordsStored: () => () => undefined,
      polling: () => true,
      capability: tagged,
      ...walk(z),
    })
    hosts.push(requester, runner)
    mesh.sync()
    await requester.scheduler.start()
    await runner.scheduler.start()
    const [taskOrder, input] = order({ input: { data: 'tagged' } })
    const tags = ['only-z']
    const ref = await requester.scheduler.submit(
      { ...taskOrder, requirements: { ...taskOrder.requirements, tags } },
      input,
    )
    const done = await eventually(async () => {
      mesh.sync()
      const view = await requester.scheduler.view(ref.action_hash)
      return view.state.status === 'done' ? view : undefined
    })
    expect(done.state.results.map((r) => r.author)).toEqual([z.agentPubKey])
  }

  it('is run there: its requester tells it of the task, then of its assignment', () => runTagged(false))

  it('is run there when the peer lies past the walk: found through the tag index', () => runTagged(true))
})
