import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { canonicalJson } from '../../../zomes-bindings/canonical-json.ts'
import type { Assignment, Task, TaskResult, Vote } from '../../../zomes-bindings/index.ts'
import { claimSnapshot } from './fixtures/capability.ts'
import { type Mesh, openMesh } from './fixtures/mesh-conductors.ts'

let mesh: Mesh | null = null
afterEach(async () => {
  await mesh?.close()
  mesh = null
})

const micros = (msFromNow: number) => (Date.now() + msFromNow) * 1000

function task(overrides: Partial<Task> = {}): Task {
  return {
    kind: 'sha256',
    input_hash: createHash('sha256')
      .update(canonicalJson({ data: 'hello' }))
      .digest('hex'),
    input_bytes: 16,
    input_cid: null,
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 1, model: null, tags: [] },
    lease_ms: 60_000,
    deadline: micros(60_000),
    max_attempts: 2,
    fan_out: 1,
    ...overrides,
  }
}

const snapshot = claimSnapshot({ cores: 2, ram_bytes: 8 * 1024 ** 3 })

function result(taskHash: string, assignment: string, output: unknown): TaskResult {
  const now = micros(0)
  return {
    task: taskHash,
    assignment,
    status: 'ok',
    output_cid: null,
    output_hash: createHash('sha256').update(canonicalJson(output)).digest('hex'),
    error: null,
    metrics: {
      started_at: now,
      finished_at: now,
      duration_ms: 0,
      tokens_in: null,
      tokens_out: null,
      tokens_per_second: null,
    },
  }
}

/** A vote for a result without a model; it agrees when in group 0 (the chosen result's). */
function vote(result: string, assignee: string, group: number | null): Vote {
  return { result, assignee, model_file_hash: null, group, similarity: null, agree: group === 0 }
}

/** A submits a task, B claims it; both hold everything. */
async function submittedAndClaimed(a: EmbeddedConductor, b: EmbeddedConductor, t: Task = task()) {
  const submitted = await a.callZome('resource_mesh', 'submit_task', t)
  mesh!.sync()
  const claim = await b.callZome('resource_mesh', 'claim_task', { task: submitted.action_hash, snapshot })
  mesh!.sync()
  return { taskHash: submitted.action_hash, claimHash: claim.action_hash }
}

describe('resource_mesh zome (with the Rust rules)', () => {
  it('runs the whole life of a task, with a derived status at each step', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const submitted = await a.callZome('resource_mesh', 'submit_task', task())
    const state = () => a.callZome('resource_mesh', 'get_task_state', submitted.action_hash)
    expect((await state())?.status).toBe('submitted')
    mesh.sync()
    expect((await b.callZome('resource_mesh', 'list_open_tasks', null)).map((t) => t.action_hash)).toEqual([
      submitted.action_hash,
    ])

    const claim = await b.callZome('resource_mesh', 'claim_task', { task: submitted.action_hash, snapshot })
    mesh.sync()
    expect((await state())?.status).toBe('claimed')

    const assignment: Assignment = {
      task: submitted.action_hash,
      claim: claim.action_hash,
      assignee: b.agentPubKey,
      slot: 0,
      attempt: 1,
      lease_expires_at: micros(30_000),
    }
    const assigned = await a.callZome('resource_mesh', 'assign_task', assignment)
    mesh.sync()
    expect((await state())?.status).toBe('assigned')

    const posted = await b.callZome(
      'resource_mesh',
      'post_result',
      result(submitted.action_hash, assigned.action_hash, { sha256: 'x' }),
    )
    mesh.sync()
    expect((await state())?.status).toBe('running')

    await a.callZome('resource_mesh', 'issue_receipt', {
      task: submitted.action_hash,
      result: posted.action_hash,
      accepted: true,
      reason: 'output hash verified',
      usage: { duration_ms: 0, tokens: null, output_bytes: 14 },
      votes: [vote(posted.action_hash, b.agentPubKey, 0)],
    })
    mesh.sync()
    const done = await b.callZome('resource_mesh', 'get_task_state', submitted.action_hash)
    expect(done).toMatchObject({
      status: 'done',
      task: { author: a.agentPubKey, entry: { kind: 'sha256' } },
      claims: [{ author: b.agentPubKey }],
      assignments: [{ entry: { attempt: 1, assignee: b.agentPubKey } }],
      results: [{ author: b.agentPubKey, action_hash: posted.action_hash }],
      receipt: { entry: { accepted: true } },
      cancellation: null,
    })
    expect(await b.callZome('resource_mesh', 'list_open_tasks', null)).toEqual([])
  })

  it('refuses an assignment by anyone but the task author', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const { taskHash, claimHash } = await submittedAndClaimed(a, b)
    const forged = b.callZome('resource_mesh', 'assign_task', {
      task: taskHash,
      claim: claimHash,
      assignee: b.agentPubKey,
      slot: 0,
      attempt: 1,
      lease_expires_at: micros(30_000),
    })
    await expect(forged).rejects.toThrow(/assignment\.author_is_task_author/)
  })

  it('refuses a result by anyone but the assignee, and a receipt or cancel by anyone but the author', async () => {
    mesh = await openMesh(3)
    const [a, b, c] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor, EmbeddedConductor]
    const { taskHash, claimHash } = await submittedAndClaimed(a, b)
    const assigned = await a.callZome('resource_mesh', 'assign_task', {
      task: taskHash,
      claim: claimHash,
      assignee: b.agentPubKey,
      slot: 0,
      attempt: 1,
      lease_expires_at: micros(30_000),
    })
    mesh.sync()
    await expect(
      c.callZome('resource_mesh', 'post_result', result(taskHash, assigned.action_hash, 'forged')),
    ).rejects.toThrow(/result\.author_is_assignee/)
    const posted = await b.callZome(
      'resource_mesh',
      'post_result',
      result(taskHash, assigned.action_hash, 'ok'),
    )
    mesh.sync()
    await expect(
      c.callZome('resource_mesh', 'issue_receipt', {
        task: taskHash,
        result: posted.action_hash,
        accepted: true,
        reason: '',
        usage: { duration_ms: 0, tokens: null, output_bytes: 4 },
        votes: [],
      }),
    ).rejects.toThrow(/receipt\.author_is_task_author/)
    await expect(
      c.callZome('resource_mesh', 'cancel_task', { task: taskHash, reason: 'mine now' }),
    ).rejects.toThrow(/cancellation\.author_is_task_author/)
  })

  it('refuses a claim whose snapshot misses the requirements', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const t = task({ requirements: { ...task().requirements, model: 'qwen-7b' } })
    const submitted = await a.callZome('resource_mesh', 'submit_task', t)
    mesh.sync()
    await expect(
      b.callZome('resource_mesh', 'claim_task', { task: submitted.action_hash, snapshot }),
    ).rejects.toThrow(/claim\.meets_requirements: the claim's snapshot has no model "qwen-7b"/)
  })

  it('derives expired, failed and cancelled from deadline, leases and records', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const expiring = await a.callZome('resource_mesh', 'submit_task', task({ deadline: micros(50) }))
    const { taskHash, claimHash } = await submittedAndClaimed(a, b, task({ max_attempts: 1 }))
    await a.callZome('resource_mesh', 'assign_task', {
      task: taskHash,
      claim: claimHash,
      assignee: b.agentPubKey,
      slot: 0,
      attempt: 1,
      lease_expires_at: micros(50),
    })
    const cancelled = await a.callZome('resource_mesh', 'submit_task', task())
    await a.callZome('resource_mesh', 'cancel_task', {
      task: cancelled.action_hash,
      reason: 'changed my mind',
    })
    await new Promise((resolve) => setTimeout(resolve, 100))

    const status = async (hash: string) => (await a.callZome('resource_mesh', 'get_task_state', hash))?.status
    expect(await status(expiring.action_hash)).toBe('expired')
    expect(await status(taskHash)).toBe('failed')
    expect(await status(cancelled.action_hash)).toBe('cancelled')
    expect(await a.callZome('resource_mesh', 'list_open_tasks', null)).toEqual([
      expect.objectContaining({ action_hash: taskHash }),
    ])
  })

  it("takes only the finished task's link off the open anchor, tagged or (opened by an earlier version) untagged", async () => {
    mesh = await openMesh(1)
    const [a] = mesh.conductors as [EmbeddedConductor]
    const cell = a.cell('resource_mesh')
    const openLinks = () =>
      cell.call((hdk) =>
        hdk.get_links(hdk.anchor('open_tasks'), 'OpenTasks').map((l) => encodeHashB64(l.target)),
      )
    const kept = await a.callZome('resource_mesh', 'submit_task', task())
    const tagged = await a.callZome('resource_mesh', 'submit_task', task())
    // How submit_task linked a task before the link carried it as its tag.
    const untagged = await cell.call((hdk) => {
      const hash = hdk.create_entry('Task', task())
      hdk.create_link(hdk.anchor('open_tasks'), hash, 'OpenTasks')
      return encodeHashB64(hash)
    })
    expect((await openLinks()).sort()).toEqual([kept.action_hash, tagged.action_hash, untagged].sort())
    for (const hash of [tagged.action_hash, untagged])
      await a.callZome('resource_mesh', 'cancel_task', { task: hash, reason: 'done with it' })
    expect(await openLinks()).toEqual([kept.action_hash])
  })

  it('runs the slots of a fan-out at once, with a receipt that votes for each answer', async () => {
    mesh = await openMesh(3)
    const [a, b, c] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor, EmbeddedConductor]
    const submitted = await a.callZome('resource_mesh', 'submit_task', task({ fan_out: 2 }))
    const taskHash = submitted.action_hash
    mesh.sync()
    const assigned: string[] = []
    for (const [slot, peer] of [b, c].entries()) {
      const claim = await peer.callZome('resource_mesh', 'claim_task', { task: taskHash, snapshot })
      mesh.sync()
      const assignment = { task: taskHash, claim: claim.action_hash, assignee: peer.agentPubKey, slot }
      await expect(
        a.callZome('resource_mesh', 'assign_task', {
          ...assignment,
          slot: 2,
          attempt: 1,
          lease_expires_at: 0,
        }),
      ).rejects.toThrow(/assignment\.slot_exceeds_fan_out/)
      const ref = await a.callZome('resource_mesh', 'assign_task', {
        ...assignment,
        attempt: 1,
        lease_expires_at: micros(30_000),
      })
      assigned.push(ref.action_hash)
    }
    mesh.sync()
    const state = () => a.callZome('resource_mesh', 'get_task_state', taskHash)
    expect((await state())?.assignments.map((x) => x.entry.slot)).toEqual([0, 1])

    const posted = await b.callZome('resource_mesh', 'post_result', result(taskHash, assigned[0]!, 'yes'))
    mesh.sync()
    // One slot answered, the other still holds its lease.
    expect((await state())?.status).toBe('assigned')
    const other = await c.callZome('resource_mesh', 'post_result', result(taskHash, assigned[1]!, 'no'))
    mesh.sync()
    expect((await state())?.status).toBe('running')

    const receipt = {
      task: taskHash,
      result: posted.action_hash,
      accepted: true,
      reason: '1 of 2 answers agree',
      usage: { duration_ms: 0, tokens: null, output_bytes: 10 },
      votes: [vote(posted.action_hash, b.agentPubKey, 0), vote(other.action_hash, c.agentPubKey, 1)],
    }
    const three = { ...receipt, votes: [...receipt.votes, vote(submitted.action_hash, a.agentPubKey, 2)] }
    await expect(a.callZome('resource_mesh', 'issue_receipt', three)).rejects.toThrow(
      /receipt\.votes_exceed_fan_out/,
    )
    await a.callZome('resource_mesh', 'issue_receipt', receipt)
    mesh.sync()
    expect(await c.callZome('resource_mesh', 'get_task_state', taskHash)).toMatchObject({
      status: 'done',
      receipt: { entry: { votes: [{ agree: true }, { agree: false }] } },
    })
  })

  it('answers null for a hash that is not a task', async () => {
    mesh = await openMesh(1)
    const [a] = mesh.conductors as [EmbeddedConductor]
    const { taskHash } = { taskHash: (await a.callZome('resource_mesh', 'submit_task', task())).action_hash }
    const claim = await a.callZome('resource_mesh', 'claim_task', { task: taskHash, snapshot })
    expect(await a.callZome('resource_mesh', 'get_task_state', claim.action_hash)).toBeNull()
  })
})
