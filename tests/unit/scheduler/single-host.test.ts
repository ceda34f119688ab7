import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { isTerminal, type TaskEvent } from '../../../host/scheduler/scheduler-service.ts'
import type { Worker } from '../../../host/workers/worker.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { eventually, meshPerTest, order, task, testHost } from './fixtures.ts'

const { openMesh, hosts } = meshPerTest()

/** A worker of `kind` that takes any input and answers anything. */
function anything(kind: string, run: Worker['run']): Worker {
  return { kind, input: z.unknown(), output: z.unknown(), run }
}

describe('the scheduler of a host that is both requester and worker', () => {
  it('runs a sha256 task from submit to an accepted receipt, reporting each status', async () => {
    const mesh = await openMesh(1)
    const host = testHost(mesh.conductors[0] as EmbeddedConductor)
    hosts.push(host)
    await host.scheduler.start()
    const ref = await host.scheduler.submit(...order({ input: { data: 'hello' } }))
    const events: TaskEvent[] = []
    host.scheduler.watch(ref.action_hash, (e) => events.push(e))

    const view = await eventually(async () => {
      const v = await host.scheduler.view(ref.action_hash)
      return isTerminal(v.state.status) ? v : undefined
    })
    expect(view.state.status).toBe('done')
    expect(view.state.results).toHaveLength(1)
    expect(view.payloads.outputs[view.state.results[0]!.action_hash]).toEqual({
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      bytes: 5,
    })
    expect(view.state.receipt?.entry).toMatchObject({ accepted: true, reason: 'output hash verified' })
    expect(view.state.receipt?.entry.usage.output_bytes).toBeGreaterThan(0)
    await eventually(async () =>
      events.some((e) => e.type === 'status' && e.status === 'done') ? true : undefined,
    )
    const statuses = events.flatMap((e) => (e.type === 'status' ? [e.status] : []))
    expect(statuses.at(-1)).toBe('done')
    expect(await host.scheduler.list()).toEqual([
      expect.objectContaining({ action_hash: ref.action_hash, kind: 'sha256', status: 'done', attempts: 1 }),
    ])
  })

  it('answers a fan-out with the peers it has once no other node claims: one vote for one host', async () => {
    const mesh = await openMesh(1)
    const host = testHost(mesh.conductors[0] as EmbeddedConductor)
    hosts.push(host)
    await host.scheduler.start()
    const ref = await host.scheduler.submit(...order({ input: { data: 'alone' }, fan_out: 2 }))
    const view = await eventually(async () => {
      const v = await host.scheduler.view(ref.action_hash)
      return isTerminal(v.state.status) ? v : undefined
    })
    expect(view.state.status).toBe('done')
    expect(view.state.assignments.map((a) => a.entry.slot)).toEqual([0])
    expect(view.state.receipt?.entry).toMatchObject({
      accepted: true,
      reason: '1 of 1 answers agree; 1 slot found no claimant',
      votes: [{ result: view.state.results[0]!.action_hash, agree: true, group: 0 }],
    })
  })

  it('posts an error result for a failing worker and gives up after max_attempts', async () => {
    const mesh = await openMesh(1)
    const host = testHost(mesh.conductors[0] as EmbeddedConductor)
    host.workers.register(
      anything('always.fails', async () => {
        throw new Error('boom')
      }),
    )
    hosts.push(host)
    await host.scheduler.start()
    const ref = await host.scheduler.submit(...order({ kind: 'always.fails', max_attempts: 2 }))
    // The last error fails the task at once; the requester's receipt follows it.
    const view = await eventually(async () => {
      const v = await host.scheduler.view(ref.action_hash)
      return isTerminal(v.state.status) && v.state.receipt !== null ? v : undefined
    })
    expect(view.state.status).toBe('failed')
    expect(view.state.assignments.map((a) => a.entry.attempt)).toEqual([1, 2])
    expect(view.state.results.map((r) => r.entry.error)).toEqual(['boom', 'boom'])
    expect(view.state.receipt?.entry).toMatchObject({
      accepted: false,
      reason: `the worker failed on ${host.conductor.agentPubKey}: boom`,
    })
  })

  it('says why a task nobody can run stays unclaimed', async () => {
    const mesh = await openMesh(1)
    const host = testHost(mesh.conductors[0] as EmbeddedConductor)
    hosts.push(host)
    await host.conductor.callZome('agent_registry', 'advertise_capability', capability())
    await host.scheduler.start()
    const ref = await host.scheduler.submit(
      ...order({
        requirements: { ...task().requirements, model: 'llama-70b', min_ram_bytes: 64 * 1024 ** 3 },
      }),
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const view = await host.scheduler.view(ref.action_hash)
    expect(view.state.status).toBe('submitted')
    expect(view.why_unclaimed).toBe('no node has 64.0 GiB of RAM; no node has model "llama-70b"')
  })

  it('says a run started once it lasts a while or streams; a quick run is told by its Result alone', async () => {
    const mesh = await openMesh(1)
    const host = testHost(mesh.conductors[0] as EmbeddedConductor)
    host.workers.register(
      anything('streams.now', async (_input, ctx) => {
        ctx.onEvent({ type: 'token', text: 'a' })
        return { output: 'a' }
      }),
    )
    hosts.push(host)
    const heard = new Map<string, string[]>()
    host.conductor.onSignal((s) => {
      const p = s.payload as { type?: string; task?: string; event?: string }
      if (p.type === 'task' && p.task && p.event) heard.set(p.task, [...(heard.get(p.task) ?? []), p.event])
    })
    await host.scheduler.start()
    const done = async (ref: { action_hash: string }) =>
      eventually(async () => {
        const v = await host.scheduler.view(ref.action_hash)
        return v.state.status === 'done' ? v : undefined
      })
    const quick = await host.scheduler.submit(...order({ kind: 'echo', input: { message: 'quick' } }))
    const slow = await host.scheduler.submit(
      ...order({ kind: 'echo', input: { message: 'slow', delay_ms: 300 } }),
    )
    const streaming = await host.scheduler.submit(...order({ kind: 'streams.now', input: {} }))
    for (const ref of [quick, slow, streaming]) await done(ref)
    expect(heard.get(quick.action_hash)).toBeUndefined()
    expect(heard.get(slow.action_hash)).toEqual(['started'])
    expect(heard.get(streaming.action_hash)).toEqual(['started', 'progress'])
  })

  it('aborts a running attempt when its author cancels the task', async () => {
    const mesh = await openMesh(1)
    const host = testHost(mesh.conductors[0] as EmbeddedConductor)
    hosts.push(host)
    await host.scheduler.start()
    const ref = await host.scheduler.submit(
      ...order({ kind: 'echo', input: { message: 'slow', delay_ms: 20_000 } }),
    )
    await eventually(async () =>
      (await host.scheduler.view(ref.action_hash)).state.status === 'running' ? true : undefined,
    )
    expect(host.scheduler.queueDepth()).toBe(1)
    await host.scheduler.cancel(ref.action_hash, 'no longer needed')
    await eventually(async () => (host.scheduler.queueDepth() === 0 ? true : undefined))
    const view = await host.scheduler.view(ref.action_hash)
    expect(view.state.status).toBe('cancelled')
    expect(view.state.results).toEqual([])
  })
})
