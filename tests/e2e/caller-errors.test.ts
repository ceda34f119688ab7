/**
 * Against a real `ripple up` (real Cedar parser, msgpack, conductor): inputs that used to answer 500
 * are 400 with the field at fault, the daemon logs them at info without a stack, and keeps serving.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningRipple, startRipple } from './ripple-process.ts'

let dataDir: string
let daemon: RunningRipple
let api: { url: string; token: string }

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-e2e-caller-errors-'))
  daemon = await startRipple(['--data-dir', dataDir, '--api-port', '0', '--log-level', 'info'])
  const { api_url: url } = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as {
    api_url: string
  }
  api = { url, token: (await readFile(join(dataDir, 'api-token'), 'utf8')).trim() }
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

async function post(path: string, body: string) {
  const res = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body,
  })
  return {
    status: res.status,
    error: ((await res.json()) as { error: { name: string; details?: unknown } }).error,
  }
}

describe('former 5xx from a real daemon', { timeout: 60_000 }, () => {
  it('answers 400 to a task input nested 6,000 levels deep and to a policy with a lone surrogate', async () => {
    const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`
    const task = await post('/api/tasks', `{"kind":"echo","input":{"message":${deep}}}`)
    expect(task).toMatchObject({
      status: 400,
      error: {
        name: 'TooDeepJsonError',
        details: { field: expect.stringMatching(/^input\.message\.0\.0\.0\.0\.….0 \(level 64\)$/) },
      },
    })
    const policy = await post(
      '/api/policies',
      '{"id":"p1","text":"permit(principal, action, resource) when { \\"\\udc00\\" };"}',
    )
    expect(policy).toMatchObject({
      status: 400,
      error: { name: 'MalformedStringError', details: { field: 'text' } },
    })

    const status = await fetch(`${api.url}/api/status`, { headers: { authorization: `Bearer ${api.token}` } })
    expect(status.status).toBe(200)
    const log = daemon.stderr()
    expect(log).not.toMatch(/"level":50/)
    expect(log).not.toMatch(/\\n\s+at /)
  })
})
