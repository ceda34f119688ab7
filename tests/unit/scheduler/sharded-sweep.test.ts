/**
 * A runner on a peer whose records are sharded (issue 57) hears of the records it holds, not of a far
 * task: its scheduler sweeps the open tasks while the backend says records are sharded, as on a
 * polling backend, and not otherwise; and a bystander (no model served, no task of its own) does not
 * sweep at all (open-task-sweep.ts `sweepNeeded`), yet its listing shows the far open tasks, read
 * when it is asked (`listReadsOpen`), while what /metrics counts (`known`) reads nothing of them.
 */
import { describe, expect, it, vi } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { eventually, meshPerTest, order, testHost } from './fixtures.ts'

/** A capability serving one model: a host that may run what a far task asks. */
const serving = capability({
  inference: {
    tokens_per_second: null,
    models: [
      {
        ...{ name: 'tiny', file_hash: 'a'.repeat(64), size_bytes: 1, parameters: 1, quantisation: null },
        ...{ context_length: 1, architecture: 'llama', loaded: false },
      },
    ],
  },
})

const { openMesh, hosts } = meshPerTest()

describe('a runner whose records are sharded', () => {
  it('finds a task it heard nothing of by sweeping, only while sharded', async () => {
    const mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    // Runs nothing: the claim to wait for is the runner's.
    const requester = testHost(a, { workers: new WorkerRegistry() })
    let sharded = false
    // Its backend's events never name the far task: only a sweep finds it.
    const runner = testHost(b, {
      onRecordsStored: () => () => undefined,
      polling: () => sharded,
      capability: serving,
    })
    hosts.push(requester, runner)
    await requester.scheduler.start()
    await runner.scheduler.start()
    const ref = await requester.scheduler.submit(...order({ input: { data: 'hello' } }))
    mesh.sync()
    // Ten of its sweep periods (50 ms) unsharded: it does not look.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await requester.scheduler.view(ref.action_hash)).state.claims).toEqual([])
    sharded = true
    await eventually(async () => {
      mesh.sync()
      const view = await requester.scheduler.view(ref.action_hash)
      return view.state.claims.length > 0 ? view : undefined
    })
  })

  it('is not swept where its events tell it all and no polling is asked', async () => {
    const mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const requester = testHost(a, { workers: new WorkerRegistry() })
    const runner = testHost(b, { onRecordsStored: () => () => undefined })
    hosts.push(requester, runner)
    await requester.scheduler.start()
    await runner.scheduler.start()
    const ref = await requester.scheduler.submit(...order({ input: { data: 'hello' } }))
    mesh.sync()
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await requester.scheduler.view(ref.action_hash)).state.claims).toEqual([])
  })

  it('is not swept by a bystander (no model, no task of its own) however long, until it submits one', async () => {
    const mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const bystander = testHost(b, { onRecordsStored: () => () => undefined, polling: () => true })
    const runner = testHost(a, {
      onRecordsStored: () => () => undefined,
      polling: () => true,
      capability: serving,
    })
    hosts.push(bystander, runner)
    const sweeps = (c: EmbeddedConductor) => {
      const spy = vi.spyOn(c, 'callZome')
      return () => spy.mock.calls.filter(([, fn]) => fn === 'list_open_tasks').length
    }
    const [bystanderSweeps, runnerSweeps] = [sweeps(b), sweeps(a)]
    await bystander.scheduler.start()
    await runner.scheduler.start()
    const loaded = bystanderSweeps() // the read model's load at start reads them once
    // Ten of its sweep periods (50 ms), sharded: the runner sweeps, the bystander never does.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(bystanderSweeps()).toBe(loaded)
    expect(runnerSweeps()).toBeGreaterThan(3)
    // A task of its own open: now it looks for what concerns it (its task's claims, held elsewhere).
    await bystander.scheduler.submit(...order({ input: { data: 'hello' } }))
    await eventually(async () => (bystanderSweeps() > loaded ? true : undefined))
  })

  it('lists a far open task on a bystander that does not sweep, read when it is asked', async () => {
    const mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const requester = testHost(a, { workers: new WorkerRegistry() })
    // Its events never name the far task, and it has no reason to sweep.
    const bystander = testHost(b, { onRecordsStored: () => () => undefined, polling: () => true })
    hosts.push(requester, bystander)
    await requester.scheduler.start()
    await bystander.scheduler.start()
    const ref = await requester.scheduler.submit(...order({ input: { data: 'hello' } }))
    mesh.sync()
    // What /metrics counts reads nothing from the far holders: the far task is not known here yet.
    const reads = vi.spyOn(b, 'callZome')
    expect(bystander.scheduler.known().map((t) => t.action_hash)).not.toContain(ref.action_hash)
    expect(reads).not.toHaveBeenCalled()
    const listed = (await bystander.scheduler.list()).map((t) => t.action_hash)
    expect(listed).toContain(ref.action_hash)
    expect(reads.mock.calls.some(([, fn]) => fn === 'list_open_tasks')).toBe(true)
    // Once listed, it is known here.
    expect(bystander.scheduler.known().map((t) => t.action_hash)).toContain(ref.action_hash)
  })
})
