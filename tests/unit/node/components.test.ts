/**
 * The node's components fill in as it builds its services: a service reads another when it is called,
 * so one built later is there by then; reading one never built is an error that names it.
 */
import { describe, expect, it } from 'vitest'
import { ComponentNotBuiltError, growingComponents } from '../../../host/node/components.ts'

describe('growing components', () => {
  it('answers what was built, and names the component read before it was built', () => {
    const c = growingComponents()
    c.dataDir = '/tmp/peer'
    expect(c.dataDir).toBe('/tmp/peer')
    expect(() => c.scheduler).toThrow(ComponentNotBuiltError)
    expect(() => c.scheduler).toThrow(/the node's scheduler is read before it is built/)
  })

  it('lets a service built first reach one built after it, once called', () => {
    const c = growingComponents()
    // As the registry advertises the scheduler's queue: built before the scheduler, called after.
    const queueDepth = () => c.scheduler.queueDepth()
    expect(queueDepth).toThrow(ComponentNotBuiltError)
    c.scheduler = { queueDepth: () => 3 } as unknown as typeof c.scheduler
    expect(queueDepth()).toBe(3)
  })

  it('holds a component that is explicitly none (null), unlike one never built', () => {
    const c = growingComponents()
    c.memory = null
    expect(c.memory).toBeNull()
    expect(() => c.artifacts).toThrow(ComponentNotBuiltError)
  })
})
