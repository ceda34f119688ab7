import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelsView, StatusView } from '../../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import type { TaskSummary } from '../../host/scheduler/scheduler-service.ts'
import { printableText } from '../../host/text/printable.ts'
import type { InferGenerateOutput } from '../../host/workers/infer-generate.ts'
import { isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let dataDir: string
let modelsDir: string
let daemon: RunningRipple

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-e2e-models-'))
  modelsDir = join(dataDir, 'models')
  await mkdir(modelsDir)
  const tiny = await writeLlamaModel(join(modelsDir, 'tiny.gguf'), TINY_MODEL)
  const { readFile } = await import('node:fs/promises')
  await writeFile(join(modelsDir, 'corrupt.gguf'), (await readFile(tiny.path)).subarray(0, 200_000))
  // A network of its own: on `local`, another test's daemon (with another "tiny") could claim our tasks.
  const network = await isolatedNetwork(dataDir, 'e2e-models')
  daemon = await startRipple([
    ...['--network', network, '--data-dir', dataDir, '--models-dir', modelsDir],
    ...['--api-port', '0', '--log-level', 'warn'],
    ...['--threads', '1', '--context-size', '2048'],
  ])
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

const ripple = (...args: string[]) => runRipple([...args, '--data-dir', dataDir])

async function status(): Promise<StatusView> {
  const res = await ripple('status', '--json')
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as StatusView
}

describe('ripple models (separate processes)', { timeout: 60_000 }, () => {
  it('`ripple models ls` shows the good model and the corrupt file with its reason', async () => {
    const json = await ripple('models', 'ls', '--json')
    expect(json.code, json.stderr).toBe(0)
    const view = JSON.parse(json.stdout) as ModelsView
    expect(view.models).toEqual([
      expect.objectContaining({ name: 'tiny', architecture: 'llama', loaded: false }),
    ])
    expect(view.unusable).toEqual([
      { path: join(modelsDir, 'corrupt.gguf'), reason: expect.stringMatching(/^truncated: tensor/) },
    ])
    const text = await ripple('models', 'ls')
    expect(text.stdout).toMatch(/^NAME\s+LOADED\s+ARCH/)
    expect(text.stdout).toMatch(/^tiny\s+no\s+llama\s+127\.8K\s+F32\s+4096/m)
    expect(text.stdout).toMatch(/^unusable {2}\S+corrupt\.gguf: truncated: tensor/m)
  })

  it('refuses to load the corrupt file with a clear 422, and the daemon keeps answering', async () => {
    const res = await ripple('models', 'load', 'corrupt')
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      /^ripple: ModelUnusableError \(HTTP 422\): model "corrupt" cannot be loaded: truncated: tensor \S+ ends at byte \d+, the file has 200000 bytes\n$/,
    )
    expect(daemon.child.exitCode).toBeNull()
    expect((await status()).pid).toBe(daemon.child.pid)
  })

  it('answers 404 to a model it does not have', async () => {
    const res = await ripple('models', 'load', 'nope')
    expect(res.stderr).toMatch(
      /^ripple: ModelNotFoundError \(HTTP 404\): no model named "nope" in the models directory \(models: tiny\)$/m,
    )
  })

  it('loads and unloads the good model, and advertises whether it is loaded', async () => {
    const load = await ripple('models', 'load', 'tiny')
    expect(load.code, load.stderr).toBe(0)
    expect(load.stdout).toMatch(/^loaded tiny in \d+ ms \(context 2048 tokens, 1 threads\)$/m)
    const advertised = async () =>
      (await status()).capability.inference.models.find((m) => m.name === 'tiny')?.loaded
    // The capability is advertised again right after the change (not at the next 30 s resample).
    await expect.poll(advertised, { timeout: 10_000 }).toBe(true)
    const listed = JSON.parse((await ripple('models', 'ls', '--json')).stdout) as ModelsView
    expect(listed.models[0]?.loaded).toBe(true)

    const unload = await ripple('models', 'unload', 'tiny')
    expect(unload.stdout).toBe('unloaded tiny\n')
    await expect.poll(advertised, { timeout: 10_000 }).toBe(false)
    expect((await ripple('models', 'unload', 'tiny')).stdout).toBe('was not loaded: tiny\n')
  })

  it('`ripple infer` runs infer.generate on the mesh and prints (or streams) the same greedy text each time', async () => {
    const args = ['infer', 'Once upon a time', '--model', 'tiny', '--max-tokens', '12']
    const streamed = await ripple(...args, '--stream')
    expect(streamed.code, streamed.stderr).toBe(0)
    expect(streamed.stderr).toMatch(
      /^ripple: 1[23] tokens in \d+ ms \([\d.]+ tok\/s\) on uhCAk\S+, model tiny [0-9a-f]{12}…, seed \d+$/m,
    )
    const json = await ripple(...args, '--json')
    expect(json.code, json.stderr).toBe(0)
    const output = JSON.parse(json.stdout) as InferGenerateOutput
    expect(output).toMatchObject({ model: { name: 'tiny' }, params: { temperature: 0, max_tokens: 12 } })
    // A terminal gets the text with its control characters escaped (random weights produce some).
    expect(streamed.stdout).toBe(`${printableText(output.text)}\n`)
    const printed = await ripple(...args)
    expect(printed.stdout).toBe(`${printableText(output.text)}\n`)
  })

  it('`ripple infer` goes straight to the runner, no task; `--route round` makes it a task, same text', async () => {
    const args = ['infer', 'Once upon a time', '--model', 'tiny', '--max-tokens', '8']
    const inferTasks = async () =>
      (JSON.parse((await ripple('task', 'ls', '--json')).stdout) as TaskSummary[]).filter(
        (t) => t.kind === 'infer.generate',
      ).length
    const before = await inferTasks()
    const direct = await ripple(...args)
    expect(direct.code, direct.stderr).toBe(0)
    expect(await inferTasks()).toBe(before)
    // The signed record of the request, named on stderr, is what `task show` reads.
    const request = /^ripple: on record: ripple task show ([0-9a-f]{64})$/m.exec(direct.stderr)?.[1]
    expect(request).toBeDefined()
    const record = await ripple('task', 'show', request!)
    expect(record.stdout).toMatch(/^verdict\s+accepted: the runner signed the output that was served$/m)
    const round = await ripple(...args, '--route', 'round')
    expect(round.code, round.stderr).toBe(0)
    expect(await inferTasks()).toBe(before + 1)
    expect(round.stdout).toBe(direct.stdout)
  })

  it('`ripple infer --fan-out 2` on a one-peer mesh answers with that peer, and prints and shows its vote', async () => {
    const args = ['infer', 'Once upon a time', '--model', 'tiny', '--max-tokens', '12']
    const res = await ripple(...args, '--fan-out', '2')
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).toMatch(/^ripple: 1 of 1 answers agree; 1 slot found no claimant$/m)
    expect(res.stderr).toMatch(/^ripple: vote uhCAk\S+ tiny [0-9a-f]{12}…: agrees$/m)
    // Newest first: the task just run.
    const [fannedOut] = JSON.parse((await ripple('task', 'ls', '--json')).stdout) as TaskSummary[]
    const show = await ripple('task', 'show', fannedOut!.action_hash)
    expect(show.stdout).toMatch(/^fan-out\s+2 peers, answers reduced by agreement$/m)
    expect(show.stdout).toMatch(/^slot 0 attempt 1\s+uhCAk\S+ ok in \d+ ms$/m)
    expect(show.stdout).toMatch(/^vote\s+uhCAk\S+ tiny [0-9a-f]{12}…: agrees$/m)
    expect(res.stdout).toBe((await ripple(...args)).stdout)

    const streamed = await ripple(...args, '--fan-out', '2', '--stream')
    expect(streamed.code).toBe(1)
    expect(streamed.stderr).toMatch(/^ripple: --stream .* does not go with --fan-out$/m)
  })
})
