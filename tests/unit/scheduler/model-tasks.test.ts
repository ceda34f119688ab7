/**
 * Tasks of a kind that runs on a model (inference), with a stand-in worker that places inputs the
 * way the inference workers do (a model it has, loaded or fitting) but answers without llama.cpp; a
 * load that fails on one peer is retried on another holding the file.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import { SchedulerService, type TaskEvent } from '../../../host/scheduler/scheduler-service.ts'
import type { Placement } from '../../../host/workers/worker.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import type { ModelInfo, NodeCapability } from '../../../zomes-bindings/index.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'
import { eventually, order } from './fixtures.ts'

let mesh: Mesh | null = null
let schedulers: SchedulerService[] = []
afterEach(async () => {
  await Promise.all(schedulers.map((s) => s.stop()))
  schedulers = []
  await mesh?.close()
  mesh = null
})

const modelInfo = (name: string, loaded: boolean): ModelInfo => ({
  name,
  file_hash: 'cd'.repeat(32),
  size_bytes: 1024,
  parameters: 100,
  quantisation: 'F32',
  context_length: 128,
  architecture: 'llama',
  loaded,
})

type Run = (input: unknown) => Promise<{ output: { text: string } }>
const echo: Run = async (input) => ({ output: { text: `echo: ${(input as { prompt: string }).prompt}` } })

/** A host whose `model.fake` worker places inputs with `place`; the claim window is a minute long. */
async function host(
  conductor: EmbeddedConductor,
  advertised: NodeCapability,
  place: () => Placement,
  run: Run = echo,
) {
  await conductor.callZome('agent_registry', 'advertise_capability', advertised)
  const workers = new WorkerRegistry()
  workers.register({
    kind: 'model.fake',
    input: z.strictObject({ prompt: z.string() }),
    output: z.strictObject({ text: z.string() }),
    needsModel: true,
    place: async () => place(),
    run,
  })
  const scheduler = new SchedulerService({
    conductor,
    workers,
    policies: new PolicyService({ conductor, logger: silentLogger() }),
    capability: () => advertised,
    claimWindowMs: 60_000,
    logger: silentLogger(),
  })
  schedulers.push(scheduler)
  await scheduler.start()
  return scheduler
}

const fakeTask = () => order({ kind: 'model.fake', input: { prompt: 'hi' } })

describe('tasks that run on a model', () => {
  it('are not claimed by a peer without a model; the requester says no node has any, and gives up', async () => {
    mesh = await openMesh(1)
    const scheduler = await host(mesh.conductors[0]!, capability(), () => ({
      cannot: 'no model on this peer',
    }))
    const ref = await scheduler.submit(...fakeTask())
    const waiting = await new Promise<TaskEvent>((resolve) => {
      const unwatch = scheduler.watch(ref.action_hash, (event) => {
        if (event.type !== 'waiting') return
        unwatch()
        resolve(event)
      })
    })
    expect(waiting).toEqual({ type: 'waiting', reason: 'no node has any model', unclaimable: true })
    const view = await scheduler.view(ref.action_hash)
    expect(view.state.claims).toEqual([])
    expect(view.why_unclaimed).toBe('no node has any model')
    expect(view.unclaimable).toBe(true)
  })

  it('run on the requester at once when it has the model loaded, without waiting out the claim window', async () => {
    mesh = await openMesh(1)
    const c = mesh.conductors[0]!
    const advertised = capability({ inference: { models: [modelInfo('m', true)], tokens_per_second: null } })
    const scheduler = await host(c, advertised, () => ({ model: 'm', loaded: true }))
    const ref = await scheduler.submit(...fakeTask())
    // The window is a minute: only assigning itself at once ends the task within the wait.
    const view = await eventually(async () => {
      const v = await scheduler.view(ref.action_hash)
      return v.state.status === 'done' ? v : undefined
    })
    expect(view.state.claims.map((claim) => claim.author)).toEqual([c.agentPubKey])
    expect(view.state.assignments.map((a) => [a.entry.assignee, a.entry.claim])).toEqual([
      [c.agentPubKey, view.state.claims[0]!.action_hash],
    ])
    expect(view.payloads.outputs[view.state.results[0]!.action_hash]).toEqual({ text: 'echo: hi' })
    expect(view.state.receipt?.entry.accepted).toBe(true)
  })

  it('retry a model that failed to load on one peer on another that holds the file, not the same one', async () => {
    mesh = await openMesh(3)
    const [requester, ...holders] = mesh.conductors as EmbeddedConductor[]
    await host(requester!, capability(), () => ({ cannot: 'no model on this peer' }))
    const withFile = capability({ inference: { models: [modelInfo('m', false)], tokens_per_second: null } })
    // Whichever holder runs it first fails to load it (as on a peer short of memory); a second run works.
    let runs = 0
    const loadOnce: Run = async (input) => {
      if (runs++ === 0) throw new Error('llama.cpp failed to load model "m": out of memory')
      return echo(input)
    }
    for (const c of holders) await host(c!, withFile, () => ({ model: 'm', loaded: false }), loadOnce)
    const scheduler = schedulers[0]!
    const [fake, input] = fakeTask()
    const requirements = { ...fake.requirements, model: 'm' }
    // This test mesh has no network: what each peer writes reaches the others by copying chains.
    const syncing = setInterval(() => mesh?.sync(), 50)
    const view = await (async () => {
      const ref = await scheduler.submit({ ...fake, requirements }, input)
      return eventually(async () => {
        const v = await scheduler.view(ref.action_hash)
        return v.state.receipt !== null ? v : undefined
      }, 20_000)
    })().finally(() => clearInterval(syncing))
    const [first, second] = view.state.assignments.map((a) => a.entry.assignee)
    expect(view.state.results[0]?.entry.error).toMatch(/failed to load model "m"/)
    expect(second).toBeDefined()
    expect(second).not.toBe(first)
    expect(view.state.status).toBe('done')
  })
})
