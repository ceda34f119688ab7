import { describe, expect, it } from 'vitest'
import { rendezvousOrder } from '../../../host/interface/rendezvous.ts'
import {
  type CapableNode,
  type ClaimantInput,
  claimsDecide,
  LATE_CLAIM_WINDOWS,
  planClaimant,
  SPARE_WAIT_WINDOWS,
} from '../../../host/scheduler/claimant-plan.ts'
import type {
  Assignment,
  Claim,
  EntryRecord,
  TaskResult,
  TaskState,
  TaskStatus,
} from '../../../zomes-bindings/index.ts'
import { claimSnapshot } from '../conductor/fixtures/capability.ts'
import { task as taskEntry } from './fixtures.ts'

const SUBMITTED_AT = 1_000_000_000_000
const WINDOW_MS = 200
const LATE_AT = SUBMITTED_AT + WINDOW_MS * LATE_CLAIM_WINDOWS * 1000
const SPARE_AT = SUBMITTED_AT + WINDOW_MS * SPARE_WAIT_WINDOWS * 1000
const T = 'uhCkkTask'
const AGENTS = ['uhCAkA', 'uhCAkB', 'uhCAkC', 'uhCAkD', 'uhCAkE']
// By rendezvous hash for this task: the first two are eager to claim a fan-out 1 task, the others late.
const [FIRST, SECOND, THIRD, FOURTH] = rendezvousOrder(T, AGENTS) as [string, string, string, string]

const SNAPSHOT = claimSnapshot()

function claim(author: string, queue = 0, loadedModels: string[] = []): EntryRecord<Claim> {
  const snapshot = { ...SNAPSHOT, queue_depth: queue, models: loadedModels, loaded_models: loadedModels }
  return { action_hash: `uhCkkClaim${author}`, author, timestamp: SUBMITTED_AT, entry: { task: T, snapshot } }
}

/** Known capable nodes as advertised (queue empty): equal hardware unless `ram` says otherwise. */
function nodes(agents: readonly string[], ram: Record<string, number> = {}): CapableNode[] {
  return agents.map((author) => ({ author, snapshot: { ...SNAPSHOT, ram_bytes: ram[author] ?? 16 } }))
}

function assignment(assignee: string, attempt: number): EntryRecord<Assignment> {
  return {
    action_hash: `uhCkkAssignment${attempt}`,
    author: 'uhCAkRequester',
    timestamp: SUBMITTED_AT,
    entry: { task: T, claim: `uhCkkClaim${assignee}`, assignee, slot: 0, attempt, lease_expires_at: 0 },
  }
}

function state(
  status: TaskStatus,
  claims: (string | EntryRecord<Claim>)[] = [],
  assigned: string[] = [],
  fanOut = 1,
): TaskState {
  return {
    task: {
      action_hash: T,
      author: 'uhCAkRequester',
      timestamp: SUBMITTED_AT,
      entry: taskEntry({ fan_out: fanOut }),
    },
    claims: claims.map((c) => (typeof c === 'string' ? claim(c) : c)),
    assignments: assigned.map((a, i) => assignment(a, i + 1)),
    results: [],
    receipt: null,
    cancellation: null,
    status,
  }
}

const input = (me: string, overrides: Partial<ClaimantInput> = {}): ClaimantInput => ({
  me,
  now: SUBMITTED_AT + 1000,
  cannotRun: null,
  capable: nodes(AGENTS),
  snapshot: SNAPSHOT,
  claimWindowMs: WINDOW_MS,
  behind: false,
  ...overrides,
})

describe('planClaimant', () => {
  it.each([
    ['a finished task', state('done'), input(FIRST), { kind: 'none' }],
    ['a task this host claimed', state('claimed', [FIRST]), input(FIRST), { kind: 'none' }],
    [
      'a task this host cannot run',
      state('submitted'),
      input(FIRST, { cannotRun: 'no worker for kind x' }),
      { kind: 'decline', reason: 'no worker for kind x' },
    ],
    ['the first node by rendezvous', state('submitted'), input(FIRST), { kind: 'claim' }],
    [
      'the spare (second by rendezvous), equal to the first: waits half a window',
      state('submitted'),
      input(SECOND),
      { kind: 'hold', until: SPARE_AT },
    ],
    [
      'the spare, half a window on, for a task the first has not claimed',
      state('submitted'),
      input(SECOND, { now: SPARE_AT }),
      { kind: 'claim' },
    ],
    [
      'the spare behind on its visits, half a window on, for a task the first has not claimed: looks again later',
      state('submitted'),
      input(SECOND, { now: SPARE_AT, behind: true }),
      { kind: 'hold', until: SPARE_AT + WINDOW_MS * LATE_CLAIM_WINDOWS * 1000 },
    ],
    [
      'the spare, half a window on, for a task the first claimed, not assigned yet: a late node now',
      state('claimed', [FIRST]),
      input(SECOND, { now: SPARE_AT }),
      { kind: 'hold', until: LATE_AT },
    ],
    [
      'the spare, half a window on, for a task the first claimed and runs: a late node now',
      state('assigned', [FIRST], [FIRST]),
      input(SECOND, { now: SPARE_AT }),
      { kind: 'hold', until: LATE_AT },
    ],
    [
      'the spare with more RAM than the first advertises claims at once',
      state('submitted'),
      input(SECOND, { snapshot: { ...SNAPSHOT, ram_bytes: 32 } }),
      { kind: 'claim' },
    ],
    [
      'the spare, idle, when the first claimed with tasks queued claims at once',
      state('claimed', [claim(FIRST, 2)]),
      input(SECOND),
      { kind: 'claim' },
    ],
    [
      'the spare, itself busy, when the first claimed idle: waits',
      state('claimed', [FIRST]),
      input(SECOND, { snapshot: { ...SNAPSHOT, queue_depth: 1 } }),
      { kind: 'hold', until: SPARE_AT },
    ],
    ['a later node, before its turn', state('submitted'), input(THIRD), { kind: 'hold', until: LATE_AT }],
    [
      'a later node, in its turn, for a task nobody claimed',
      state('submitted'),
      input(THIRD, { now: LATE_AT }),
      { kind: 'claim' },
    ],
    [
      'a later node behind on its visits, in its turn, for a task nobody claimed: looks again later',
      state('submitted'),
      input(THIRD, { now: LATE_AT, behind: true }),
      { kind: 'hold', until: LATE_AT + WINDOW_MS * LATE_CLAIM_WINDOWS * 1000 },
    ],
    [
      'an eager node behind on its visits claims all the same',
      state('submitted'),
      input(FIRST, { behind: true }),
      { kind: 'claim' },
    ],
    [
      'a later node, in its turn, for a task the eager nodes claimed and one runs',
      state('assigned', [FIRST, SECOND], [FIRST]),
      input(THIRD, { now: LATE_AT }),
      { kind: 'hold', until: null },
    ],
    [
      'a later node, in its turn, once both eager claimants were tried',
      state('claimed', [FIRST, SECOND], [FIRST, SECOND]),
      input(THIRD, { now: LATE_AT }),
      { kind: 'claim' },
    ],
    [
      'the third node of a fan-out 2 task (fan-out + 1 claim at once)',
      state('submitted', [], [], 2),
      input(THIRD),
      { kind: 'claim' },
    ],
    [
      'the fourth node of a fan-out 2 task, before its turn',
      state('submitted', [], [], 2),
      input(FOURTH),
      { kind: 'hold', until: LATE_AT },
    ],
    [
      'any node when it knows fewer capable nodes than claim at once',
      state('submitted'),
      input(FOURTH, { capable: nodes([FOURTH]) }),
      { kind: 'claim' },
    ],
  ])('%s', (_name, taskState, claimant, expected) => {
    expect(planClaimant(taskState, claimant)).toEqual(expected)
  })
})

describe('planClaimant for a task on a model', () => {
  /** The task on model "m", with the results given. */
  const onModel = (taskState: TaskState, results: EntryRecord<TaskResult>[] = []): TaskState => {
    const entry = { ...taskState.task.entry }
    entry.requirements = { ...entry.requirements, model: 'm' }
    return { ...taskState, task: { ...taskState.task, entry }, results }
  }
  const loaded = (author: string) => claim(author, 0, ['m'])
  const failedLoad: EntryRecord<TaskResult> = {
    action_hash: 'uhCkkResult1',
    author: FIRST,
    timestamp: SUBMITTED_AT,
    entry: {
      task: T,
      assignment: 'uhCkkAssignment1',
      status: 'error',
      output_cid: null,
      output_hash: '0'.repeat(64),
      error: 'llama.cpp failed to load model "m": unknown model architecture',
      metrics: {
        started_at: SUBMITTED_AT,
        finished_at: SUBMITTED_AT,
        duration_ms: 1,
        tokens_in: null,
        tokens_out: null,
        tokens_per_second: null,
      },
    },
  }

  it.each([
    [
      'the spare, for an attempt that must load the model first: claims at once, ready for a retry',
      onModel(state('assigned', [FIRST], [FIRST])),
      input(SECOND),
      { kind: 'claim' },
    ],
    [
      'the spare, for an attempt on the model loaded: a late node (one claim per task)',
      onModel(state('assigned', [loaded(FIRST)], [FIRST])),
      input(SECOND, { now: SPARE_AT }),
      { kind: 'hold', until: LATE_AT },
    ],
    [
      'the spare, for an attempt that failed: claims at once',
      onModel(state('running', [loaded(FIRST)], [FIRST]), [failedLoad]),
      input(SECOND, { now: SPARE_AT }),
      { kind: 'claim' },
    ],
    [
      'a later node, for an attempt that must load the model first: waits its turn',
      onModel(state('assigned', [FIRST], [FIRST])),
      input(THIRD),
      { kind: 'hold', until: LATE_AT },
    ],
  ])('%s', (_name, taskState, claimant, expected) => {
    expect(planClaimant(taskState, claimant)).toEqual(expected)
  })
})

describe('claimsDecide', () => {
  it.each([
    ['both eager nodes claimed', state('claimed', [FIRST, SECOND]), nodes(AGENTS), new Set<string>(), true],
    [
      'only the first by rendezvous claimed: the other, equal, could not rank ahead',
      state('claimed', [FIRST]),
      nodes(AGENTS),
      new Set<string>(),
      true,
    ],
    [
      'only the spare claimed: the first could still claim and win',
      state('claimed', [SECOND]),
      nodes(AGENTS),
      new Set<string>(),
      false,
    ],
    [
      'only the spare claimed, the first advertising less RAM',
      state('claimed', [SECOND]),
      nodes(AGENTS, { [FIRST]: 8 }),
      new Set<string>(),
      true,
    ],
    [
      'only the first claimed, the spare advertising more RAM',
      state('claimed', [FIRST]),
      nodes(AGENTS, { [SECOND]: 32 }),
      new Set<string>(),
      false,
    ],
    [
      'only the first claimed, and the requester passed it over',
      state('claimed', [FIRST]),
      nodes(AGENTS),
      new Set([FIRST]),
      false,
    ],
    [
      'one eager node claimed, a later one too',
      state('claimed', [SECOND, THIRD]),
      nodes(AGENTS),
      new Set<string>(),
      false,
    ],
    ['nobody claimed', state('submitted'), nodes(AGENTS), new Set<string>(), false],
    [
      'a fan-out 2 task with two of its three eager claims',
      state('claimed', [FIRST, SECOND], [], 2),
      nodes(AGENTS),
      new Set<string>(),
      false,
    ],
    [
      'this host knows one capable node, and it claimed (a mesh of one machine)',
      state('claimed', [FIRST]),
      nodes([FIRST]),
      new Set<string>(),
      true,
    ],
    [
      'this host knows one capable node, and another claimed',
      state('claimed', [SECOND]),
      nodes([FIRST]),
      new Set<string>(),
      false,
    ],
    ['this host knows no capable node', state('claimed', [FIRST]), [], new Set<string>(), false],
  ])('%s', (_name, taskState, capable, passedOver, expected) => {
    expect(claimsDecide(taskState, capable, passedOver)).toBe(expected)
  })
})
