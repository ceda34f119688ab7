import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { LlamaRuntime } from '../../../host/inference/llama-runtime.ts'
import { silentLogger } from '../../../host/log/logger.ts'

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

describe('LlamaRuntime', () => {
  it('starts the prebuilt binary (never a local build) with the threads it was given, once', async () => {
    const runtime = new LlamaRuntime({ threads: 1, logger: silentLogger() })
    try {
      const llama = await runtime.get()
      expect(await runtime.get()).toBe(llama)
      expect(llama.buildType).toBe('prebuilt')
      expect(llama.maxThreads).toBe(1)
    } finally {
      await runtime.dispose()
    }
  })

  // node-llama-cpp's binary self-test forks a child with this process's execArgv; under `node -e`
  // the child ran the eval'd code instead, the test failed and the binary was refused.
  it('starts the prebuilt binary under `node -e` too', () => {
    const code = `
      const { LlamaRuntime } = await import('./host/inference/llama-runtime.ts')
      const { silentLogger } = await import('./host/log/logger.ts')
      const runtime = new LlamaRuntime({ threads: 1, logger: silentLogger() })
      console.log((await runtime.get()).buildType)
      await runtime.dispose()`
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(child.stderr).toBe('')
    expect(child.stdout.trim()).toBe('prebuilt')
  })
})
