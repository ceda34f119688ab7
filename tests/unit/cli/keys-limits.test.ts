import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiKeyStore, apiKeysPath } from '../../../host/api/api-keys.ts'
import { keysCommand } from '../../../host/cli/commands/keys-command.ts'

const dirs: string[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function keys(dir: string, ...args: string[]): Promise<string> {
  let out = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk)
    return true
  })
  await keysCommand()
    .exitOverride()
    .parseAsync([...args, '--data-dir', dir], { from: 'user' })
  vi.restoreAllMocks()
  return out
}

describe('ripple keys create --rpm --tpm --tokens-per-day', () => {
  it('keeps the limits with the key and lists them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-keys-'))
    dirs.push(dir)
    await keys(dir, 'create', '--rpm', '30', '--tpm', '20000', '--tokens-per-day', '2000000', '--json')
    await keys(dir, 'create', '--json')
    const [limited, free] = await new ApiKeyStore(apiKeysPath(dir)).list()
    expect(limited?.limits).toEqual({ rpm: 30, tpm: 20000, tokens_per_day: 2000000 })
    expect(free?.limits).toBeUndefined()
    expect(await keys(dir, 'ls')).toContain('30 rpm, 20000 tpm, 2000000/day')
  })
})
