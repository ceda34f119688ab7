/**
 * The split worker's tensor cache has a size: the least recently used tensors go first until the rest
 * fit (a table), and real files in a cache dir are trimmed to the cap, the newest kept.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freeDiskBytes } from '../../../host/hardware/free-disk.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { cachedTensors, defaultCacheCap, keepCache, planCacheTrim } from '../../../host/split/rpc-cache.ts'

const t = (path: string, bytes: number, usedAt: number) => ({ path, bytes, usedAt })

describe('planCacheTrim', () => {
  it.each([
    ['under the cap: nothing goes', [t('a', 10, 1), t('b', 10, 2)], 30, []],
    ['at the cap: nothing goes', [t('a', 10, 1), t('b', 20, 2)], 30, []],
    ['the least recently used first', [t('new', 10, 9), t('old', 10, 1), t('mid', 10, 5)], 20, ['old']],
    ['as many as it takes', [t('new', 10, 9), t('old', 10, 1), t('mid', 10, 5)], 10, ['old', 'mid']],
    ['a cap of 0 empties it', [t('a', 1, 1), t('b', 1, 2)], 0, ['a', 'b']],
    ['one big old file frees the room', [t('big', 100, 1), t('s1', 5, 2), t('s2', 5, 3)], 20, ['big']],
  ] as const)('%s', (_, files, cap, trim) => {
    expect(planCacheTrim(files, cap)).toEqual(trim)
  })
})

describe('keepCache on real files', () => {
  it('trims a cache dir to its cap, oldest first, and says what it holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-rpc-cache-'))
    try {
      // ggml-rpc-server keeps tensors in a folder of the cache dir, by hash.
      await mkdir(join(dir, 'rpc'))
      const now = Date.now() / 1000
      for (const [name, age] of [
        ['aa', 300],
        ['bb', 200],
        ['cc', 100],
        ['dd', 0],
      ] as const) {
        const path = join(dir, 'rpc', name)
        await writeFile(path, Buffer.alloc(1024))
        await utimes(path, now - age, now - age)
      }
      expect((await cachedTensors(dir)).reduce((s, f) => s + f.bytes, 0)).toBe(4096)
      const use = await keepCache(dir, 2500, silentLogger())
      expect(use).toEqual({ bytes: 2048, cap_bytes: 2500 })
      expect((await readdir(join(dir, 'rpc'))).sort()).toEqual(['cc', 'dd'])
      expect(await keepCache(dir, 2500, silentLogger())).toEqual({ bytes: 2048, cap_bytes: 2500 })
      expect(await keepCache(join(dir, 'none-yet'), 10, silentLogger())).toEqual({ bytes: 0, cap_bytes: 10 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('defaults to a quarter of the free disk', async () => {
    const before = await freeDiskBytes(tmpdir())
    const cap = await defaultCacheCap(tmpdir())
    const after = await freeDiskBytes(tmpdir())
    expect(cap).toBeGreaterThanOrEqual(Math.floor(Math.min(before, after) / 4) - 1)
    expect(cap).toBeLessThanOrEqual(Math.ceil(Math.max(before, after) / 4))
  })
})
