/**
 * A host whose backend tells it nothing as records arrive (a Holochain conductor: its scheduler polls the
 * open tasks), or nothing of the records it does not hold (an embedded peer whose records are sharded),
 * shows a task afresh when asked, not as it last saw it open: a bystander's `ripple task show` of a task
 * that finished elsewhere says it finished.
 */
import { describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import { eventually, meshPerTest, order, testHost } from './fixtures.ts'

const { openMesh, hosts } = meshPerTest()

/**
 * A requester on one peer of two runs a task to done while a bystander built with `options` (runs
 * nothing: it only watches the mesh) shows it: submitted at first, done once the last records arrive.
 */
async function shownToBystander(options: Parameters<typeof testHost>[1]) {
  const mesh = await openMesh(2)
  const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
  const requester = testHost(a)
  const bystander = testHost(b, { workers: new WorkerRegistry(), ...options })
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
  // Records reach the bystander only now, after the task left the open tasks a sweep reads.
  mesh.sync()
  const shown = await bystander.scheduler.view(ref.action_hash)
  expect(shown.state.status).toBe('done')
  expect(shown.state.results).toHaveLength(1)
}

describe('a task shown by a host that polls', () => {
  it('reads the task afresh: a bystander sees it done once its records arrive, though it left the open tasks', async () => {
    await shownToBystander({})
  })
})

describe('a task shown by a host whose records are sharded', () => {
  it('reads the task afresh: a bystander told of none of its records sees it done', async () => {
    // Holds none of the task's records: its backend's events never name it (4 real daemons at R = 2
    // showed a far peer's first read, 'assigned', for good).
    await shownToBystander({ onRecordsStored: () => () => undefined, polling: () => true })
  })
})
