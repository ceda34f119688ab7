/**
 * The node starts (and the daemon with it: `ripple up` awaits this start, and exits when it rejects)
 * when a start-time read does not come from its holders in time: the scheduler, built as the node
 * builds it, reads its tasks again in the background and the services start all the same.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ReadsTimedOutError } from '../../../host/conductor/embedded/errors.ts'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { type Startable, startAll, stopAll } from '../../../host/interface/startable.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { buildServices } from '../../../host/node/build-services.ts'
import { type ServiceFactories, service } from '../../../host/node/components.ts'
import { schedulerService } from '../../../host/node/coordination-services.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import { WorkerRegistry } from '../../../host/workers/worker-registry.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'

const given = { logger: silentLogger(), dataDir: '/tmp/peer', network: {} as never }
const open: { mesh?: Mesh; running?: Startable[] } = {}

afterEach(async () => {
  await stopAll(open.running ?? [])
  await open.mesh?.close()
})

describe('the node at start', () => {
  it('starts when the tasks do not come from their holders in time', async () => {
    open.mesh = await openMesh(1)
    const c = open.mesh.conductors[0]!
    let timedOut = 0
    const conductor = new Proxy(c, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target)
        if (key !== 'callZome') return typeof value === 'function' ? value.bind(target) : value
        return (dna: string, fn: string, ...rest: unknown[]) => {
          if (fn !== 'list_open_tasks')
            return (value as (...args: unknown[]) => Promise<unknown>).call(target, dna, fn, ...rest)
          timedOut++
          return Promise.reject(new ReadsTimedOutError(dna, 30_000))
        }
      },
    }) as ConductorPort
    const factories = {
      conductor: service([], () => conductor),
      workers: service([], () => WorkerRegistry.withBuiltins()),
      policies: service(
        ['conductor'],
        (x) => new PolicyService({ conductor: x.conductor, logger: given.logger }),
      ),
      // A backend whose records are not told as stored: the scheduler's start reads them all.
      backend: service([], () => ({
        onRecordsStored: null,
        recordsSharded: null,
        isRevoked: () => false,
        versions: null,
      })),
      artifacts: service([], () => null),
      registry: service([], () => ({ capability: capability() })),
      report: service([], () => ({ add: () => {} })),
      scheduler: schedulerService(),
    } as unknown as ServiceFactories
    const { components, running } = await buildServices(factories, given)
    open.running = running
    await expect(startAll(running)).resolves.toBeUndefined()
    // Its read was asked (and failed), and the scheduler answers.
    expect(timedOut).toBeGreaterThan(0)
    expect(await components.scheduler.list()).toEqual([])
  })
})
