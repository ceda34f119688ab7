/**
 * The node's build and start order comes from what each service declares it needs: after its needs,
 * else as declared; a circle or a need nothing provides is refused naming the chain.
 */
import { describe, expect, it } from 'vitest'
import { type DeclaredService, planServices, ServicePlanError } from '../../../host/node/service-plan.ts'

const s = (name: string, ...needs: string[]): DeclaredService => ({ name, needs })

describe('planServices', () => {
  const orders: { name: string; services: DeclaredService[]; given?: string[]; order: string[] }[] = [
    { name: 'nothing needed: as declared', services: [s('a'), s('b'), s('c')], order: ['a', 'b', 'c'] },
    {
      name: 'a need declared later comes first',
      services: [s('registry', 'models'), s('models', 'budget'), s('budget')],
      order: ['budget', 'models', 'registry'],
    },
    {
      name: 'given components are needed, never placed',
      services: [s('models', 'logger'), s('peers', 'models', 'backend')],
      given: ['logger', 'backend'],
      order: ['models', 'peers'],
    },
    {
      name: 'a shared need is placed once, where first needed',
      services: [s('scheduler', 'workers', 'policies'), s('direct', 'workers'), s('policies'), s('workers')],
      order: ['workers', 'policies', 'scheduler', 'direct'],
    },
  ]
  it.each(orders)('$name', ({ services, given, order }) => {
    expect(planServices(services, given)).toEqual(order)
  })

  const refusals: { name: string; services: DeclaredService[]; given?: string[]; error: string }[] = [
    {
      name: 'a circle, named from where it closes',
      services: [s('metrics', 'registry'), s('registry', 'scheduler'), s('scheduler', 'registry')],
      error: 'a circle of needs: registry -> scheduler -> registry',
    },
    { name: 'a service that needs itself', services: [s('a', 'a')], error: 'a circle of needs: a -> a' },
    {
      name: 'a need nothing provides, with the chain to it',
      services: [s('memory', 'requests'), s('requests', 'direct')],
      error: 'memory -> requests -> direct: requests needs direct, which nothing provides',
    },
    { name: 'a service provided twice', services: [s('a'), s('a')], error: 'a is provided twice' },
    {
      name: 'a service that is also given',
      services: [s('logger')],
      given: ['logger'],
      error: 'logger is provided twice',
    },
  ]
  it.each(refusals)('refuses $name', ({ services, given, error }) => {
    expect(() => planServices(services, given)).toThrow(ServicePlanError)
    expect(() => planServices(services, given)).toThrow(error)
  })
})
