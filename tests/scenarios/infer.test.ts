import { describe, expect, it } from 'vitest'
import { generate } from '../../host/inference/generate.ts'
import { modelInfo } from '../../host/registry/index.ts'
import { isTerminal, type SchedulerService, type TaskEvent } from '../../host/scheduler/scheduler-service.ts'
import { inferEmbedWorker } from '../../host/workers/infer-embed.ts'
import { type InferGenerateOutput, inferGenerateWorker } from '../../host/workers/infer-generate.ts'
import type { Task } from '../../zomes-bindings/index.ts'
import { modelsFixture } from '../unit/inference/inference-fixtures.ts'
import { runScenario } from './harness.ts'
import { type RunLog, startSchedulerHost } from './scheduler-hosts.ts'

function inferTask(kind: 'infer.generate' | 'infer.embed', input: Task['input']): Task {
  return {
    kind,
    input,
    input_cid: null,
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 0, model: 'tiny', tags: [] },
    lease_ms: 30_000,
    deadline: (Date.now() + 60_000) * 1000,
    max_attempts: 1,
    fan_out: 1,
  }
}

/** Submits the task and collects its events until it ends; answers the accepted output. */
async function runTask(
  requester: SchedulerService,
  task: Task,
): Promise<{ output: unknown; events: TaskEvent[] }> {
  const ref = await requester.submit(task)
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
  return { output: result?.entry.output, events }
}

describe('inference through the mesh', { timeout: 90_000 }, () => {
  it('a remote peer generates what a local run of the same model, seed and input generates, streaming it', async () => {
    // Two models directories, each with the tiny model generated from the same seed: bob's, and
    // this test's own for the local run (its own llama.cpp runtime and model instance).
    const models = await modelsFixture()
    const localModels = await modelsFixture()
    try {
      const listed = (await models.manager.list()).models
      expect((await localModels.manager.list()).models[0]?.sha256).toBe(listed[0]?.sha256)
      await runScenario(async (scenario) => {
        const [alice, bob] = await scenario.addPlayers(2)
        await scenario.shareAllAgents()
        const log: RunLog = { runs: [] }
        const inference = [inferGenerateWorker(models.manager), inferEmbedWorker(models.manager)]
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
            const local = await generate(await localModels.manager.load('tiny'), input)
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
})
