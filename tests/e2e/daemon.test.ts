import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient } from '../../host/api/client/index.ts'
import { type PeersReply, routePath, routes, type StatusView } from '../../host/api/contract/index.ts'
import { llamaSpec, writeGguf } from '../../host/inference/gguf-gen/gguf-writer.ts'
import { LOOPBACK_FLAGS, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let dataDir: string
let daemon: RunningRipple & { readyMs: number }

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-e2e-'))
  const modelsDir = join(dataDir, 'my-models')
  await mkdir(modelsDir)
  await writeFile(join(modelsDir, 'tiny.gguf'), writeGguf(llamaSpec()))
  await writeFile(join(modelsDir, 'broken.gguf'), writeGguf(llamaSpec()).subarray(0, 300))
  const flags = { '--data-dir': dataDir, '--models-dir': modelsDir, '--api-port': '0', '--name': 'e2e-peer' }
  const memoryFlags = ['--memory-max-size', '512MiB']
  daemon = await startRipple([
    ...Object.entries(flags).flat(),
    ...memoryFlags,
    '--tag',
    'e2e',
    '--log-level',
    'warn',
  ])
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

const printedAgent = () => /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1]

describe('ripple up / status / peers (separate processes)', { timeout: 60_000 }, () => {
  it('prints the agent key, the API URL, a one-time login link and a ready line', () => {
    expect(printedAgent()).toMatch(/^uhCAk/)
    expect(daemon.stdout()).toMatch(/^ripple: api http:\/\/127\.0\.0\.1:\d+$/m)
    expect(daemon.stdout()).toMatch(/^ripple: open http:\/\/127\.0\.0\.1:\d+\/\?code=\S{20,} /m)
    expect(daemon.readyMs).toBeGreaterThan(0)
  })

  it('`ripple status --json` reports the agent, network, the machine cores and the engine backend', async () => {
    const res = await runRipple(['status', '--data-dir', dataDir, '--json'])
    expect(res.code, res.stderr).toBe(0)
    const status = JSON.parse(res.stdout) as StatusView
    expect(status.agent).toBe(printedAgent())
    expect(status.network).toBe('local')
    expect(status.backend).toBe('embedded')
    expect(status.pid).toBe(daemon.child.pid)
    expect(status.capability.name).toBe('e2e-peer')
    expect(status.capability.hardware.cpu.threads).toBe(cpus().length)
    // Its own tag, and the engine's backend (no GPU here: the CPU, and why not the GPU backends).
    expect(status.capability.tags).toEqual(['e2e', 'engine:cpu', `llama:${status.engine?.engine_build}`])
    expect(status.engine?.engine_build).toMatch(/^[0-9a-f]{12}\/rpc\d+\.\d+\.\d+$/)
    expect(status.engine?.backend).toBe('cpu')
    expect(status.engine?.backends.find((b) => b.id === 'cuda-prebuilt')).toMatchObject({
      state: 'not available',
      detail: 'no NVIDIA GPU found',
    })
    expect(status.capability.memory).toEqual({ shards_held: 0, capacity_bytes: 512 * 2 ** 20 })
  })

  it('advertises the usable model and reports the broken one', async () => {
    const res = await runRipple(['status', '--data-dir', dataDir, '--json'])
    const status = JSON.parse(res.stdout) as StatusView
    expect(status.capability.inference.models).toEqual([
      expect.objectContaining({ name: 'tiny', architecture: 'llama', context_length: 128, loaded: false }),
    ])
    expect(status.unusable_models).toEqual([
      { path: join(dataDir, 'my-models', 'broken.gguf'), reason: expect.stringMatching(/^truncated/) },
    ])
  })

  it('has written the capability to the agent_registry chain', async () => {
    const file = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as {
      api_url: string
      agent: string
    }
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    const api = new ApiClient({ baseUrl: file.api_url, token })
    const record = await api.callZome('agent_registry', 'get_capability', file.agent)
    expect(record).toMatchObject({ author: file.agent, entry: { name: 'e2e-peer' } })
  })

  it('`ripple status` prints text for a person', async () => {
    const res = await runRipple(['status', '--data-dir', dataDir])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/^agent\s+uhCAk/m)
    expect(res.stdout).toMatch(/^network\s+local \(embedded\)$/m)
  })

  it('`ripple peers` lists self online', async () => {
    const res = await runRipple(['peers', '--data-dir', dataDir, '--json'])
    expect(res.code, res.stderr).toBe(0)
    const { peers } = JSON.parse(res.stdout) as PeersReply
    expect(peers[0]).toMatchObject({ agent: printedAgent(), self: true, status: 'online', name: 'e2e-peer' })
    const text = await runRipple(['peers', '--data-dir', dataDir])
    expect(text.stdout).toMatch(/\(self\)\s+e2e-peer\s+online/)
  })

  it('answers bad API requests with 4xx and keeps serving', async () => {
    const zomePath = (dna: string, fn: string) => routePath(routes.callZome.path, { dna, fn })
    const file = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as { api_url: string }
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    const noToken = await fetch(`${file.api_url}${routes.status.path}`)
    expect(noToken.status).toBe(401)
    const malformed = await fetch(`${file.api_url}${zomePath('agent_registry', 'advertise_capability')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"name":',
    })
    expect(malformed.status).toBe(400)
    const invalid = await fetch(`${file.api_url}${zomePath('agent_registry', 'get_capability')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '"not-an-agent-key"',
    })
    expect(invalid.status).toBe(400)
    const res = await runRipple(['status', '--data-dir', dataDir, '--json'])
    expect(res.code, res.stderr).toBe(0)
  })

  it('refuses a second daemon on the same data dir', async () => {
    const res = await runRipple([
      'up',
      ...LOOPBACK_FLAGS,
      '--data-dir',
      dataDir,
      '--api-port',
      '0',
      '--log-level',
      'silent',
    ])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/already runs on data dir/)
  })

  it('stops cleanly on SIGTERM, and a restart on the same data dir keeps the agent key', async () => {
    const agent = printedAgent()
    daemon.child.kill('SIGTERM')
    expect(await daemon.exited).toBe(0)
    expect(daemon.stdout()).toMatch(/ripple: stopped/)
    await expect(access(join(dataDir, 'daemon.json'))).rejects.toThrow()

    const gone = await runRipple(['status', '--data-dir', dataDir])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`no daemon running for data dir ${dataDir}; start one with \`ripple up\``)

    daemon = await startRipple(['--data-dir', dataDir, '--api-port', '0', '--log-level', 'warn'])
    expect(printedAgent()).toBe(agent)
    daemon.child.kill('SIGINT')
    expect(await daemon.exited).toBe(0)
  })
})
