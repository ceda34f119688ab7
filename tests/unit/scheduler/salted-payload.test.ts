/**
 * A task's payloads salted with a secret of its two parties: the public Task and Result name them by
 * hashes that confirm no guessed prompt or answer, while the requester and the assignee, who hold the
 * salt, check and read them as before.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { payloadHash } from '../../../host/identity/payload-hash.ts'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import { newSalt, salted, unsalted } from '../../../host/scheduler/salted-payload.ts'
import { SchedulerService } from '../../../host/scheduler/scheduler-service.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'
import { eventually, order } from './fixtures.ts'

const SALT = 'ab'.repeat(32)

describe('salted payloads', () => {
  it.each([
    ['an envelope', salted({ prompt: 'hi' }, SALT), { content: { prompt: 'hi' }, salt: SALT }],
    ['a payload kept unsalted', { prompt: 'hi' }, { content: { prompt: 'hi' }, salt: null }],
    ['null', null, { content: null, salt: null }],
    ['a salt that is not 32 bytes of hex', { ripple_salted: 1, salt: 'ab', content: 1 }, null],
    ['an envelope with another field', { ...salted(1, SALT), more: true }, null],
  ])('reads %s', (_, kept, read) => {
    // null: not an envelope, so read as it is.
    expect(unsalted(kept)).toEqual(read ?? { content: kept, salt: null })
  })

  it('hashes to what neither the content nor another salt does', () => {
    const prompt = { prompt: 'the secret prompt' }
    const hash = payloadHash(salted(prompt, SALT))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hash).not.toBe(payloadHash(prompt))
    expect(hash).not.toBe(payloadHash(salted(prompt, newSalt())))
    expect(payloadHash(salted(prompt, SALT))).toBe(hash)
    expect(newSalt()).toMatch(/^[0-9a-f]{64}$/)
    expect(newSalt()).not.toBe(newSalt())
  })
})

let mesh: Mesh | null = null
let schedulers: SchedulerService[] = []
afterEach(async () => {
  await Promise.all(schedulers.map((s) => s.stop()))
  schedulers = []
  await mesh?.close()
  mesh = null
})

/**
 * A host that runs `echo.salted` (the assignee) or none (the requester). It takes every member to
 * read salts (so it salts its tasks), and each peer to say so but those in `readsNoSalt` (a 0.1.0
 * peer that joined since).
 */
async function host(conductor: EmbeddedConductor, runs: boolean, readsNoSalt: string[] = []) {
  const workers = new WorkerRegistry()
  if (runs)
    workers.register({
      kind: 'echo.salted',
      input: z.strictObject({ prompt: z.string() }),
      output: z.strictObject({ text: z.string() }),
      run: async (input: { prompt: string }) => ({ output: { text: `echo: ${input.prompt}` } }),
    })
  const scheduler = new SchedulerService({
    conductor,
    workers,
    policies: new PolicyService({ conductor, logger: silentLogger() }),
    capability: () => capability(),
    versions: {
      everySpeaks: (protocol, version) => protocol === 'entries' && version <= 2,
      of: (agent) => (readsNoSalt.includes(agent) ? UNSTATED : OWN_STATEMENT),
    },
    claimWindowMs: 50,
    logger: silentLogger(),
  })
  schedulers.push(scheduler)
  await scheduler.start()
  return scheduler
}

describe('a task whose members all read salts', () => {
  it('publishes hashes that confirm no guess; its two parties check and read it', async () => {
    mesh = await openMesh(2)
    const [asking, running] = mesh.conductors as EmbeddedConductor[]
    const requester = await host(asking!, false)
    await host(running!, true)
    const prompt = { prompt: 'the secret prompt' }
    const syncing = setInterval(() => mesh?.sync(), 50)
    const view = await (async () => {
      const ref = await requester.submit(...order({ kind: 'echo.salted', input: prompt }))
      return eventually(async () => {
        const v = await requester.view(ref.action_hash)
        return v.state.receipt !== null ? v : undefined
      }, 20_000)
    })().finally(() => clearInterval(syncing))
    const [result] = view.state.results
    expect(result?.author).toBe(running!.agentPubKey)
    expect(view.state.receipt?.entry.accepted).toBe(true)
    // The parties read the content, out of its envelope.
    expect(view.payloads.input).toEqual(prompt)
    expect(view.payloads.outputs[result!.action_hash]).toEqual({ text: 'echo: the secret prompt' })

    // A bystander holding the Task and the Result and guessing right confirms nothing ...
    const { input_hash } = view.state.task.entry
    const output_hash = result!.entry.output_hash
    expect(input_hash).not.toBe(payloadHash(prompt))
    expect(output_hash).not.toBe(payloadHash({ text: 'echo: the secret prompt' }))
    // ... while the requester, who drew the salt, confirms both; the assignee, given the salt with the
    // input (checked against input_hash before it ran), salted its output with it.
    const kept = async (conductor: EmbeddedConductor, hash: string) =>
      unsalted((await conductor.callZome('resource_mesh', 'get_payload', hash))?.content)
    const input = await kept(asking!, input_hash)
    expect(input.content).toEqual(prompt)
    expect(payloadHash(salted(prompt, input.salt!))).toBe(input_hash)
    for (const party of [asking!, running!]) {
      const output = await kept(party, output_hash)
      expect(output.salt).toBe(input.salt)
      expect(payloadHash(salted({ text: 'echo: the secret prompt' }, output.salt!))).toBe(output_hash)
    }
  })

  it('is given to no claimant that does not read salts', async () => {
    mesh = await openMesh(2)
    const [asking, running] = mesh.conductors as EmbeddedConductor[]
    const requester = await host(asking!, false, [running!.agentPubKey])
    await host(running!, true)
    const syncing = setInterval(() => mesh?.sync(), 50)
    const view = await (async () => {
      const deadline = (Date.now() + 3_000) * 1000
      const ref = await requester.submit(...order({ kind: 'echo.salted', input: { prompt: 'hi' }, deadline }))
      return eventually(async () => {
        const v = await requester.view(ref.action_hash)
        return v.state.status === 'expired' ? v : undefined
      }, 20_000)
    })().finally(() => clearInterval(syncing))
    // It claimed, and was passed over: it would have run the envelope as its input.
    expect(view.state.claims.map((c) => c.author)).toEqual([running!.agentPubKey])
    expect(view.state.assignments).toEqual([])
  })
})
