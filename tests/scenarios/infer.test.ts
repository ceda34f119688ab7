import { describe, expect, it } from 'vitest'
import { TINY_MODEL } from '../../host/inference/gguf-gen/llama-generator.ts'
import { workerModels } from '../../host/node/worker-models.ts'
import { modelInfo } from '../../host/registry/index.ts'
import {
  isTerminal,
  type SchedulerService,
  type TaskEvent,
  type TaskOrder,
  type TaskView,
} from '../../host/scheduler/scheduler-service.ts'
import { inferEmbedWorker } from '../../host/workers/infer-embed.ts'
import { type InferGenerateOutput, inferGenerateWorker } from '../../host/workers/infer-generate.ts'
import { NO_REQUIREMENTS } from '../../zomes-bindings/index.ts'
import { type ModelsFixture, modelsFixture } from '../unit/inference/inference-fixtures.ts'
import { BACKENDS, type Player, runScenario } from './harness.ts'
import { type RunLog, startSchedulerHost } from './scheduler-hosts.ts'

function inferTask(
  kind: 'infer.generate' | 'infer.embed',
  input: unknown,
  options: { fanOut?: number; model?: string; tags?: string[] } = {},
): [TaskOrder, unknown] {
  const order: TaskOrder = {
    kind,
    requirements: { ...NO_REQUIREMENTS, model: options.model ?? 'tiny', tags: options.tags ?? [] },
    lease_ms: 30_000,
    deadline: (Date.now() + 60_000) * 1000,
    max_attempts: 1,
    fan_out: options.fanOut ?? 1,
  }
  return [order, input]
}

/** Submits the task and collects its events until it ends; answers the accepted output and the view. */
async function runTask(
  requester: SchedulerService,
  [order, input]: [TaskOrder, unknown],
): Promise<{ output: unknown; events: TaskEvent[]; view: TaskView }> {
  const ref = await requester.submit(order, input)
  const events: TaskEvent[] = []
  await new Promise<void>((resolve) => {
    const unwatch = requester.watch(ref.action_hash, (event) => {
      events.push(event)
      if (event.type === 'status' && isTerminal(event.status)) {
        unwatch()
        resolve()
      }
    })
  })
  const view = await requester.view(ref.action_hash)
  expect(view.state.status).toBe('done')
  const result = view.state.results.find((r) => r.action_hash === view.state.receipt?.entry.result)
  return { output: result && view.payloads.outputs[result.action_hash], events, view }
}

describe('inference through the mesh', { timeout: 90_000 }, () => {
  describe.each(BACKENDS)('on the %s backend', (backend) => {
    it('a remote peer generates what a local run of the same model, seed and input generates, streaming it', async () => {
      // Two models directories, each with the tiny model generated from the same seed: bob's, and
      // this test's own for the local run (its own llama.cpp runtime and model instance).
      const models = await modelsFixture()
      const localModels = await modelsFixture()
      try {
        const listed = (await models.manager.list()).models
        expect((await localModels.manager.list()).models[0]?.sha256).toBe(listed[0]?.sha256)
        await runScenario({ backend }, async (scenario) => {
          const [alice, bob] = await scenario.addPlayers(2)
          await scenario.shareAllAgents()
          const log: RunLog = { runs: [] }
          const inference = [
            inferGenerateWorker(workerModels(models.manager)),
            inferEmbedWorker(workerModels(models.manager)),
          ]
          const hosts = [
            await startSchedulerHost(alice!, { name: 'alice', workers: false, log }),
            await startSchedulerHost(bob!, {
              name: 'bob',
              log,
              extraWorkers: inference,
              capability: {
                inference: { models: listed.map(modelInfo), tokens_per_second: null },
              },
            }),
          ]
          try {
            await scenario.dhtSync([alice!, bob!], 'agent_registry')
            const requester = hosts[0]!.scheduler
            for (const sampling of [
              { temperature: 0, seed: 1 },
              { temperature: 0.8, seed: 99 },
            ]) {
              const input = {
                model: 'tiny',
                prompt: 'Far away, on the other peer',
                max_tokens: 24,
                ...sampling,
              }
              const { output, events } = await runTask(requester, inferTask('infer.generate', input))
              const remote = output as InferGenerateOutput
              // Streamed, as the worker asks it in the round (llama-server's stream and its whole
              // answer differ in a tail of bytes the generated model writes as no character).
              const local = await (await localModels.manager.load('tiny')).generate(input, {
                onEvent: () => {},
              })
              expect(remote.text).toBe(local.text)
              expect(remote.model.file_hash).toBe(listed[0]!.sha256)
              expect(remote.params).toMatchObject(sampling)
              const streamed = events.flatMap((e) =>
                e.type === 'progress' && e.progress.type === 'token' ? [e.progress.data as string] : [],
              )
              expect(streamed.join('')).toBe(remote.text)
              expect(events.find((e) => e.type === 'progress')).toMatchObject({ assignee: bob!.agentPubKey })
            }
            const { output } = await runTask(
              requester,
              inferTask('infer.embed', { model: 'tiny', input: ['one', 'two'] }),
            )
            expect(output).toMatchObject({ dimension: 64 })
            expect((output as { vectors: number[][] }).vectors.map((v) => v.length)).toEqual([64, 64])
            expect(log.runs.map((r) => r.host)).toEqual(['bob', 'bob', 'bob'])
          } finally {
            await Promise.all(hosts.map((h) => h.stop()))
          }
        })
      } finally {
        await Promise.all([models.close(), localModels.close()])
      }
    })

    it('fans a prompt out to three peers and keeps the answer most agree on, with every vote in the receipt', async () => {
      // bob, carol and dave hold the tiny model; erin a model of the same name from another seed (other
      // weights, so other text). Tags pick the peers: pool-a is bob, carol, dave; pool-b is bob, carol, erin.
      // Each peer has an engine of its own, as on separate machines: requests batched together in one
      // engine, or over one's cached prompt, may break a near tie of random weights another way.
      const models = await modelsFixture()
      const [forCarol, forDave, reference] = await Promise.all([
        modelsFixture(),
        modelsFixture(),
        modelsFixture(),
      ])
      const other = await modelsFixture({ ...TINY_MODEL, seed: 2 })
      try {
        const [tiny] = (await models.manager.list()).models
        const [otherTiny] = (await other.manager.list()).models
        expect(otherTiny!.sha256).not.toBe(tiny!.sha256)
        await runScenario({ backend }, async (scenario) => {
          const players = await scenario.addPlayers(5)
          const [alice, bob, carol, dave, erin] = players as [Player, Player, Player, Player, Player]
          await scenario.shareAllAgents()
          const log: RunLog = { runs: [] }
          const peer = (name: string, fixture: ModelsFixture, tags: string[]) => ({
            name,
            log,
            extraWorkers: [inferGenerateWorker(workerModels(fixture.manager))],
            capability: {
              tags,
              inference: {
                models: [modelInfo(fixture === other ? otherTiny! : tiny!)],
                tokens_per_second: null,
              },
            },
          })
          const hosts = [
            // A longer claim window than the harness's: a slot is given up 12 windows after submission,
            // and a claim that replication holds up on a busy machine must still find its slot open.
            await startSchedulerHost(alice, {
              name: 'alice',
              workers: false,
              log,
              timing: { claimWindowMs: 300 },
            }),
            await startSchedulerHost(bob, peer('bob', models, ['pool-a', 'pool-b'])),
            await startSchedulerHost(carol, peer('carol', forCarol, ['pool-a', 'pool-b'])),
            await startSchedulerHost(dave, peer('dave', forDave, ['pool-a'])),
            await startSchedulerHost(erin, peer('erin', other, ['pool-b'])),
          ]
          try {
            await scenario.dhtSync(players, 'agent_registry')
            const requester = hosts[0]!.scheduler
            const input = {
              model: 'tiny',
              prompt: 'Ask three peers',
              max_tokens: 16,
              temperature: 0,
              seed: 1,
            }
            // Streamed, as the worker asks it in the round.
            const local = await (await reference.manager.load('tiny')).generate(input, { onEvent: () => {} })
            const votesOf = (view: TaskView) =>
              view.state.receipt!.entry.votes.map((v) => ({
                who: hosts.find((h) => h.agent === v.assignee)!.name,
                model: v.model_file_hash,
                agree: v.agree,
              }))
            const byName = (a: { who: string }, b: { who: string }) => a.who.localeCompare(b.who)

            const same = await runTask(
              requester,
              inferTask('infer.generate', input, { fanOut: 3, tags: ['pool-a'] }),
            )
            expect((same.output as InferGenerateOutput).text).toBe(local.text)
            expect(votesOf(same.view).sort(byName)).toEqual(
              ['bob', 'carol', 'dave'].map((who) => ({ who, model: tiny!.sha256, agree: true })),
            )
            expect(same.view.state.receipt!.entry).toMatchObject({
              accepted: true,
              reason: '3 of 3 answers agree',
            })
            // Each answer is a Result signed by its own peer, one slot each.
            expect(same.view.state.results.map((r) => r.author).sort()).toEqual(
              [bob.agentPubKey, carol.agentPubKey, dave.agentPubKey].sort(),
            )
            expect(same.view.state.assignments.map((a) => a.entry.slot).sort()).toEqual([0, 1, 2])

            const mixed = await runTask(
              requester,
              inferTask('infer.generate', input, { fanOut: 3, tags: ['pool-b'] }),
            )
            expect((mixed.output as InferGenerateOutput).text).toBe(local.text)
            expect(votesOf(mixed.view).sort(byName)).toEqual([
              { who: 'bob', model: tiny!.sha256, agree: true },
              { who: 'carol', model: tiny!.sha256, agree: true },
              { who: 'erin', model: otherTiny!.sha256, agree: false },
            ])
            expect(mixed.view.state.receipt!.entry.reason).toBe('2 of 3 answers agree')
            const erinAnswer = mixed.view.state.results.find((r) => r.author === erin.agentPubKey)
            // The requester holds every answer it was given, by result.
            expect(
              (mixed.view.payloads.outputs[erinAnswer!.action_hash] as InferGenerateOutput).text,
            ).not.toBe(local.text)
            expect(log.runs.map((r) => r.host).sort()).toEqual([
              'bob',
              'bob',
              'carol',
              'carol',
              'dave',
              'erin',
            ])

            // A model nobody has: the task waits unclaimed, and says so.
            const nobody = await requester.submit(
              ...inferTask(
                'infer.generate',
                { ...input, model: 'llama-70b' },
                { fanOut: 3, model: 'llama-70b' },
              ),
            )
            await new Promise((resolve) => setTimeout(resolve, 500))
            const view = await requester.view(nobody.action_hash)
            expect(view.state.status).toBe('submitted')
            expect(view.state.claims).toEqual([])
            expect(view.why_unclaimed).toMatch(/^no node has model "llama-70b"/)
          } finally {
            await Promise.all(hosts.map((h) => h.stop()))
          }
        })
      } finally {
        await Promise.all([models, forCarol, forDave, reference, other].map((f) => f.close()))
      }
    })
  })
})
