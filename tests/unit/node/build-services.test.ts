/**
 * The node builds each service from the components it named and only those, in the order the needs
 * give; the ones that run are answered in that order; a failed build stops what was opened already.
 */
import { describe, expect, it } from 'vitest'
import type { Startable } from '../../../host/interface/startable.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { buildServices } from '../../../host/node/build-services.ts'
import { type ServiceFactories, service } from '../../../host/node/components.ts'

const given = { logger: silentLogger(), dataDir: '/tmp/peer', network: {} as never }

/** A service that writes what it does into `log`. */
const running = (name: string, log: string[]): Startable => ({
  start: async () => void log.push(`start ${name}`),
  stop: async () => void log.push(`stop ${name}`),
})

describe('buildServices', () => {
  it('hands each service only what it named, built before it; answers the running ones in that order', async () => {
    const log: string[] = []
    const seen: Record<string, string[]> = {}
    const factories = {
      // Declared first, built after what it needs.
      registry: service(
        ['models', 'dataDir'],
        (c) => {
          seen.registry = Object.keys(c)
          return running('registry', log)
        },
        'started',
      ),
      models: service(
        ['budget'],
        (c) => {
          seen.models = Object.keys(c)
          return running('models', log)
        },
        'started',
      ),
      budget: service([], () => ({ free: () => 0 })),
      ipfs: service([], () => null, 'open'),
    } as unknown as ServiceFactories
    const { components, running: services } = await buildServices(factories, given)
    expect(seen).toEqual({ models: ['budget'], registry: ['models', 'dataDir'] })
    expect(Object.keys(components)).toEqual([
      'logger',
      'dataDir',
      'network',
      'budget',
      'models',
      'registry',
      'ipfs',
    ])
    // ipfs is none here: nothing runs for it.
    for (const s of services) await s.start()
    expect(log).toEqual(['start models', 'start registry'])
  })

  it('stops what was opened when a later build fails, and starts nothing', async () => {
    const log: string[] = []
    const factories = {
      backend: service([], () => running('backend', log), 'open'),
      models: service(['backend'], () => running('models', log), 'started'),
      registry: service(['models'], () => {
        throw new Error('no capability')
      }),
    } as unknown as ServiceFactories
    await expect(buildServices(factories, given)).rejects.toThrow('no capability')
    expect(log).toEqual(['stop backend'])
  })

  it('refuses a service declared to run that cannot, and stops what was opened', async () => {
    const log: string[] = []
    const factories = {
      backend: service([], () => running('backend', log), 'open'),
      usage: service([], () => ({ rows: () => [] }), 'started'),
    } as unknown as ServiceFactories
    await expect(buildServices(factories, given)).rejects.toThrow(
      "the node's usage is declared started but cannot be started",
    )
    expect(log).toEqual(['stop backend'])
  })

  it('refuses a circle of needs before building anything', async () => {
    const log: string[] = []
    const factories = {
      backend: service([], () => running('backend', log), 'open'),
      registry: service(['scheduler'], () => null),
      scheduler: service(['registry'], () => null),
    } as unknown as ServiceFactories
    await expect(buildServices(factories, given)).rejects.toThrow(
      'a circle of needs: registry -> scheduler -> registry',
    )
    expect(log).toEqual([])
  })
})
