import { describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { claimSnapshotOf } from '../../../host/scheduler/requirements.ts'
import { TaskReadModel } from '../../../host/scheduler/task-read-model.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { eventually, meshPerTest, order, task, testHost } from './fixtures.ts'

const { openMesh, hosts } = meshPerTest()

/** The conductor's callZome, counting the reads of task states. */
function counting(conductor: ConductorPort) {
  const counter = { reads: 0 }
  const callZome = ((dna, fn, payload) => {
    if (fn === 'get_task_state') counter.reads++
    return conductor.callZome(dna, fn, payload)
  }) as ConductorPort['callZome']
  return { conductor: { callZome }, counter }
}

describe('the task read model', () => {
  it('loads the open and the newest finished tasks, indexes the open ones, and keeps a bounded history', async () => {
    const mesh = await openMesh(1)
    const c = mesh.conductors[0]!
    const open = await c.callZome('resource_mesh', 'submit_task', task())
    const finished = []
    for (let i = 0; i < 3; i++) {
      const ref = await c.callZome('resource_mesh', 'submit_task', task({ input: { data: `${i}` } }))
      await c.callZome('resource_mesh', 'cancel_task', { task: ref.action_hash, reason: 'done with it' })
      finished.push(ref.action_hash)
    }
    const model = new TaskReadModel({ conductor: c, recentLimit: 2 })
    expect(await model.load()).toEqual([open.action_hash])
    const listed = model.list()
    // The open task and the two newest finished ones, newest first.
    expect(listed.map((t) => [t.action_hash, t.status])).toEqual([
      [finished[2], 'cancelled'],
      [finished[1], 'cancelled'],
      [open.action_hash, 'submitted'],
    ])
  })

  it('applies this host’s writes without reading them back, and reads again only after an op of another peer', async () => {
    const mesh = await openMesh(1)
    const c = mesh.conductors[0]!
    const { conductor, counter } = counting(c)
    const model = new TaskReadModel({ conductor })
    const ref = await c.callZome('resource_mesh', 'submit_task', task())
    expect((await model.get(ref.action_hash))?.status).toBe('submitted')
    expect(counter.reads).toBe(1)

    const claim = { task: ref.action_hash, snapshot: claimSnapshotOf(capability(), 0) }
    const claimRef = await c.callZome('resource_mesh', 'claim_task', claim)
    model.apply(ref.action_hash, {
      field: 'claims',
      record: {
        action_hash: claimRef.action_hash,
        author: c.agentPubKey,
        timestamp: Date.now() * 1000,
        entry: claim,
      },
    })
    const applied = await model.get(ref.action_hash)
    expect(applied?.status).toBe('claimed')
    expect(applied?.claims.map((x) => x.action_hash)).toEqual([claimRef.action_hash])
    expect(counter.reads).toBe(1)

    model.markStale(ref.action_hash)
    const reread = await model.get(ref.action_hash)
    expect(counter.reads).toBe(2)
    expect(reread?.claims.map((x) => x.action_hash)).toEqual([claimRef.action_hash])
    // A record that is not a task reads as none.
    expect(await model.get(claimRef.action_hash)).toBeNull()
  })

  it('applies an own write once when a read between its commit and its answer already holds it', async () => {
    const mesh = await openMesh(1)
    const c = mesh.conductors[0]!
    const model = new TaskReadModel({ conductor: c })
    const ref = await c.callZome('resource_mesh', 'submit_task', task())
    const claim = { task: ref.action_hash, snapshot: claimSnapshotOf(capability(), 0) }
    const claimRef = await c.callZome('resource_mesh', 'claim_task', claim)
    // The read sees the stored claim; the writer applies it after (its call answers once on disk).
    expect((await model.get(ref.action_hash))?.claims).toHaveLength(1)
    const record = { action_hash: claimRef.action_hash, author: c.agentPubKey, timestamp: 1, entry: claim }
    model.apply(ref.action_hash, { field: 'claims', record })
    expect((await model.get(ref.action_hash))?.claims.map((x) => x.action_hash)).toEqual([
      claimRef.action_hash,
    ])
  })

  it('lists finished tasks after the scheduler restarts (ripple task ls across restarts)', async () => {
    const mesh = await openMesh(1)
    const c = mesh.conductors[0]!
    const first = testHost(c)
    hosts.push(first)
    await first.scheduler.start()
    const ref = await first.scheduler.submit(...order({ input: { data: 'kept' } }))
    await eventually(async () => {
      const v = await first.scheduler.view(ref.action_hash)
      return v.state.status === 'done' ? v : undefined
    })
    await first.scheduler.stop()
    hosts.splice(0)

    const second = testHost(c)
    hosts.push(second)
    await second.scheduler.start()
    expect((await second.scheduler.list()).map((t) => [t.action_hash, t.status])).toEqual([
      [ref.action_hash, 'done'],
    ])
  })
})
