/**
 * The scheduler's start on a busy sharded mesh: the tasks it reads at start (the open ones and the
 * newest finished ones) may not come from their holders in time. It starts all the same, and holds
 * them once a later read succeeds; an error of another kind still fails the start.
 */
import { describe, expect, it } from 'vitest'
import { ReadsTimedOutError } from '../../../host/conductor/embedded/errors.ts'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { eventually, meshPerTest, task, testHost } from './fixtures.ts'

const { openMesh, hosts } = meshPerTest()

/** `c`, where each call of `fn` fails with `error(dna)` until `times` of them did; counts the calls. */
function failing(c: EmbeddedConductor, fn: string, times: number, error: (dna: string) => Error) {
  const calls = { count: 0 }
  const callZome = (dna: string, name: string, ...rest: unknown[]) => {
    if (name === fn && calls.count++ < times) return Promise.reject(error(dna))
    return (c.callZome as (...args: unknown[]) => Promise<unknown>)(dna, name, ...rest)
  }
  const conductor = new Proxy(c, {
    get(target, key) {
      if (key === 'callZome') return callZome
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { conductor, calls }
}

const timedOut = (dna: string) => new ReadsTimedOutError(dna, 30_000)

describe('the scheduler at start', () => {
  it('starts when the tasks do not come from their holders in time, and holds them once read again', async () => {
    const mesh = await openMesh(1)
    const c = mesh.conductors[0]!
    const open = await c.callZome('resource_mesh', 'submit_task', task())
    const ended = await c.callZome('resource_mesh', 'submit_task', task({ input: { data: 'ended' } }))
    await c.callZome('resource_mesh', 'cancel_task', { task: ended.action_hash, reason: 'done with it' })
    const { conductor, calls } = failing(c, 'list_tasks', 1, timedOut)
    const host = testHost(conductor)
    hosts.push(host)

    await expect(host.scheduler.start()).resolves.toBeUndefined()
    // Only the start's read lists the finished ones: the cancelled task is held once it was read again.
    const listed = await eventually(async () => {
      const tasks = await host.scheduler.list()
      return tasks.length === 2 ? tasks : undefined
    })
    expect(calls.count).toBe(2)
    // The open one may have been visited since (its input is held nowhere): only which tasks are held counts.
    expect(listed.map((t) => t.action_hash).sort()).toEqual([open.action_hash, ended.action_hash].sort())
  })

  it('still fails to start on an error that more reads would not mend', async () => {
    const mesh = await openMesh(1)
    const refused = () => new TypeError('not a list of tasks')
    const { conductor } = failing(mesh.conductors[0]!, 'list_tasks', 1, refused)
    const host = testHost(conductor)
    hosts.push(host)
    await expect(host.scheduler.start()).rejects.toThrow('not a list of tasks')
  })
})
