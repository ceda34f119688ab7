/**
 * A model file that kills llama.cpp, on two peers of a mesh of three `ripple up` processes. The file
 * passes every header check (a duplicated vocabulary token, which llama.cpp asserts on as it loads);
 * a task on it runs on one holder, whose engine process (llama-server) aborts: that daemon and the mesh stay up, the
 * task fails with llama.cpp's reason, the file is quarantined by hash on that peer (unusable in
 * `models ls`, gone from its capability), and the other holder of the same file is never tried.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { duplicateTokenModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import type { ModelListing } from '../../host/inference/model-manager.ts'
import type { TaskView } from '../../host/scheduler/scheduler-service.ts'
import { isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

type Peer = RunningRipple & { dataDir: string; agent: string }
let root: string
let asker: Peer
let holders: Peer[]

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-poison-'))
  const network = await isolatedNetwork(root, 'e2e-poison')
  const start = async (name: string, withModel: boolean): Promise<Peer> => {
    const dataDir = join(root, name)
    const models = join(root, `${name}-models`)
    await mkdir(models, { recursive: true })
    if (withModel) await writeFile(join(models, 'poison.gguf'), duplicateTokenModel())
    const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--log-level', 'warn'],
      90_000,
    )
    return { ...daemon, dataDir, agent: /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? '' }
  }
  ;[asker, ...holders] = await Promise.all([
    start('asker', false),
    start('holder-1', true),
    start('holder-2', true),
  ])
}, 150_000)

afterAll(async () => {
  for (const d of [asker, ...(holders ?? [])]) if (d && d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

async function peersSeenBy(peer: Peer): Promise<PeersReply['peers']> {
  const res = await runRipple(['peers', '--data-dir', peer.dataDir, '--json'])
  return (JSON.parse(res.stdout || '{"peers":[]}') as PeersReply).peers
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

const advertisesPoison = (peers: PeersReply['peers'], agent: string) =>
  peers.find((p) => p.agent === agent)?.capability?.inference.models.some((m) => m.name === 'poison') === true

describe('a model file that crashes llama.cpp', { timeout: 150_000 }, () => {
  it('fails the task with the reason on one holder, quarantines it there, and no other holder retries', async () => {
    await waitUntil('the asker sees both holders advertise the model', async () => {
      const peers = await peersSeenBy(asker)
      return holders.every((h) => advertisesPoison(peers, h.agent))
    })
    const input = JSON.stringify({ prompt: 'Hello', max_tokens: 4 })
    const res = await runRipple([
      ...['task', 'submit', 'infer.generate', '--input', input, '--model', 'poison'],
      ...['--attempts', '3', '--timeout', '60s', '--wait', '--json', '--data-dir', asker.dataDir],
    ])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      /^ripple: task \S+ failed: .*crashed llama\.cpp: llama-server was killed by SIGABRT/m,
    )
    expect(res.stderr).toMatch(/GGML_ASSERT\(id_to_token\.size\(\) == token_to_id\.size\(\)\)/)
    const view = JSON.parse(res.stdout) as TaskView

    // One attempt, one failed result: the other holder of the same file was never assigned.
    expect(view.state.status).toBe('failed')
    expect(view.state.assignments).toHaveLength(1)
    expect(view.state.results).toHaveLength(1)
    const assignee = view.state.assignments[0]?.entry.assignee
    const crashed = holders.find((h) => h.agent === assignee)
    const spared = holders.find((h) => h.agent !== assignee)
    if (!crashed || !spared) throw new Error(`the task ran on ${assignee}, not a holder`)

    // Every daemon is still up and answering.
    for (const peer of [asker, ...holders]) {
      expect(peer.child.exitCode).toBeNull()
      expect((await runRipple(['status', '--data-dir', peer.dataDir])).code).toBe(0)
    }
    // The crashed holder lists the file as unusable, with the reason, and keeps it quarantined on disk.
    const ls = await runRipple(['models', 'ls', '--json', '--data-dir', crashed.dataDir])
    const listing = JSON.parse(ls.stdout) as ModelListing
    expect(listing.models).toEqual([])
    expect(listing.unusable).toEqual([
      {
        path: expect.stringMatching(/poison\.gguf$/),
        reason: expect.stringMatching(/^quarantined: crashed llama\.cpp/),
      },
    ])
    const quarantine = JSON.parse(await readFile(join(crashed.dataDir, 'model-quarantine.json'), 'utf8'))
    expect(Object.values(quarantine)).toEqual([expect.objectContaining({ name: 'poison' })])
    // ...and stops advertising it: the mesh sees it unusable there.
    await waitUntil('the asker sees the crashed holder no longer advertise the model', async () => {
      return !advertisesPoison(await peersSeenBy(asker), crashed.agent)
    })

    // The mesh still runs work.
    const echo = await runRipple([
      ...[
        'task',
        'submit',
        'echo',
        '--input',
        '{"message":"still here"}',
        '--wait',
        '--data-dir',
        asker.dataDir,
      ],
    ])
    expect(echo.code, echo.stderr).toBe(0)
    expect(JSON.parse(echo.stdout)).toEqual({ message: 'still here' })
  })
})
