/**
 * Two `ripple up` processes on loopback: the asker has no models, the runner has the tiny model.
 * `ripple infer` on the asker runs on the runner, and answers exactly what a local run of the same
 * model file, seed and greedy input answers through this test's own model manager.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { modelsFixture } from '../unit/inference/inference-fixtures.ts'
import { type NamedRipple, runRipple, startAskerAndRunner } from './ripple-process.ts'

let root: string
let asker: NamedRipple
let runner: NamedRipple

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-remote-infer-'))
  ;[asker, runner] = await startAskerAndRunner(root, 'e2e-remote-infer')
}, 120_000)

afterAll(async () => {
  for (const d of [asker, runner]) if (d && d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('ripple infer across two ripple up processes', { timeout: 120_000 }, () => {
  it('runs on the peer that has the model and answers what a local run answers', async () => {
    // The asker must know the runner's capability (with the model) and have heard it is up (a peer no
    // heartbeat has reached yet is offline to the router, whatever its record says) before it asks.
    for (const deadline = Date.now() + 60_000; ; ) {
      const res = await runRipple(['peers', '--data-dir', asker.dataDir, '--json'])
      const { peers } = JSON.parse(res.stdout || '{"peers":[]}') as PeersReply
      const seen = peers.find((p) => p.agent === runner.agent)
      if (seen?.status !== 'offline' && seen?.capability?.inference.models.some((m) => m.name === 'tiny'))
        break
      if (Date.now() > deadline) throw new Error(`the asker never saw the runner's model:\n${res.stdout}`)
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const prompt = 'A question asked on one peer'
    const res = await runRipple([
      ...['infer', prompt, '--model', 'tiny', '--max-tokens', '16', '--seed', '7'],
      ...['--stream', '--data-dir', asker.dataDir],
    ])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).toMatch(
      new RegExp(`on ${runner.agent.slice(0, 12)}…, model tiny [0-9a-f]{12}…, seed 7$`, 'm'),
    )

    const local = await modelsFixture()
    try {
      const result = await (await local.manager.load('tiny')).generate({
        prompt,
        max_tokens: 16,
        temperature: 0,
        seed: 7,
      })
      expect(res.stdout).toBe(`${result.text}\n`)
    } finally {
      await local.close()
    }
  })
})
