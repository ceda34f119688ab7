import { describe, expect, it } from 'vitest'
import { libp2pLogger } from '../../../host/net/quiet-logger.ts'

describe('libp2pLogger', () => {
  it('gives one silent logger for every component when DEBUG is unset', () => {
    const logger = libp2pLogger({})
    const log = logger!.forComponent('libp2p:yamux')
    expect(log.enabled).toBe(false)
    expect(logger!.forComponent('libp2p:noise')).toBe(log)
    expect(log.newScope('stream')).toBe(log)
    expect(() => {
      log('a %s', 'message')
      log.error('an error %e', new Error('x'))
      log.trace('a trace')
    }).not.toThrow()
  })

  it('leaves libp2p its own logger when DEBUG asks for output', () => {
    expect(libp2pLogger({ DEBUG: 'libp2p:*' })).toBeUndefined()
  })
})
