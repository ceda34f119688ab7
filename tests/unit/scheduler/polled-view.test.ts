/**
 * A host whose backend tells it nothing as records arrive (a Holochain conductor: its scheduler polls the
 * open tasks), or nothing of the records it does not hold (an embedded peer whose records are sharded),
 * shows a task afresh when asked, not as it last saw it open: a bystander's `ripple task show` of a task
 * that finished elsewhere says it finished.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'
import { eventually, order, type TestHost, testHost } from './fixtures.ts'

let mesh: Mesh | null = null
let hosts: TestHost[] = []
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.scheduler.stop()))
  hosts = []
  await mesh?.close()
  mesh = null
})

describe('a task shown by a host that polls', () => {
  it('reads the task afresh: a bystander sees it done once its records arrive, though it left the open tasks', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const requester = testHost(a)
    // Runs nothing: it only watches the mesh.
    const bystander = testHost(b, { workers: new WorkerRegistry() })
    hosts.push(requester, bystander)
    await requester.scheduler.start()
    await bystander.scheduler.start()

    const ref = await requester.scheduler.submit(...order({ input: { data: 'hello' } }))
    mesh.sync()
    expect((await bystander.scheduler.view(ref.action_hash)).state.status).toBe('submitted')

    await eventually(async () => {
      const view = await requester.scheduler.view(ref.action_hash)
      return view.state.status === 'done' ? view : undefined
    })
    // Records reach the bystander only now, after the task left the open tasks its sweep reads.
    mesh.sync()
    const shown = await bystander.scheduler.view(ref.action_hash)
    expect(shown.state.status).toBe('done')
    expect(shown.state.results).toHaveLength(1)
  })
})

describe('a task shown by a host whose records are sharded', () => {
  it('reads the task afresh: a bystander told of none of its records sees it done', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const requester = testHost(a)
    // Holds none of the task's records: its backend's events never name it (4 real daemons at R = 2
    // showed a far peer's first read, 'assigned', for good).
    const bystander = testHost(b, {
      workers: new WorkerRegistry(),
      onRecordsStored: () => () => undefined,
      polling: () => true,
    })
    hosts.push(requester, bystander)
    await requester.scheduler.start()
    await bystander.scheduler.start()

    const ref = await requester.scheduler.submit(...order({ input: { data: 'hello' } }))
    mesh.sync()
    expect((await bystander.scheduler.view(ref.action_hash)).state.status).toBe('submitted')

    await eventually(async () => {
      const view = await requester.scheduler.view(ref.action_hash)
      return view.state.status === 'done' ? view : undefined
    })
    mesh.sync()
    const shown = await bystander.scheduler.view(ref.action_hash)
    expect(shown.state.status).toBe('done')
    expect(shown.state.results).toHaveLength(1)
  })
})
