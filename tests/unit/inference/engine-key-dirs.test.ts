/**
 * llama-server's key file: gone once the server has read it (the key still guards it), and the key
 * dirs a killed daemon left in the temp dir removed by a later start, a live daemon's kept.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { EngineBackends } from '../../../host/inference/engine/engine-backends.ts'
import {
  LlamaServerProcess,
  removeStaleKeyDirs,
} from '../../../host/inference/engine/llama-server-process.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { modelsFixture } from './inference-fixtures.ts'

const roots: string[] = []
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))))

/** A pid that was a process a moment ago and is none now. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid
  if (pid === undefined) throw new Error('could not run a process')
  return pid
}

describe('engine key dirs', { timeout: 60_000 }, () => {
  it("a later start removes a dead daemon's key dirs and keeps a live one's and everything else", async () => {
    const root = await mkdtemp(join(tmpdir(), 'ripple-key-dirs-'))
    roots.push(root)
    const dead = join(root, `ripple-engine-key-${deadPid()}-a1B2c3`)
    const live = join(root, `ripple-engine-key-${process.pid}-d4E5f6`)
    const other = join(root, 'ripple-engine-crash-x')
    for (const dir of [dead, live, other]) {
      await mkdir(dir)
      await writeFile(join(dir, 'api-key'), 'secret\n', { mode: 0o600 })
    }
    expect(await removeStaleKeyDirs(root)).toEqual([dead])
    expect((await readdir(root)).sort()).toEqual([other, live].map((p) => p.slice(root.length + 1)).sort())
  })

  it('leaves no key file once the server is ready, and the key still guards it', async () => {
    const models = await modelsFixture()
    const backend = await new EngineBackends({
      logger: silentLogger(),
      devices: { nvidia: false, vulkan: false },
    }).active()
    const server = await LlamaServerProcess.start({
      dir: backend.dir,
      env: backend.env,
      args: ['-m', `${models.dir}/tiny.gguf`, '-c', '256', '-t', '1'],
    })
    try {
      const ours = (await readdir(tmpdir())).filter((name) =>
        name.startsWith(`ripple-engine-key-${process.pid}-`),
      )
      expect(ours).toEqual([])
      expect((await fetch(`${server.url}/v1/models`, { headers: server.headers })).status).toBe(200)
      expect((await fetch(`${server.url}/v1/models`)).status).toBe(401)
    } finally {
      await server.stop()
      await models.close()
    }
  })
})
