import { describe, expect, it } from 'vitest'
import { hostAllowed, originAllowed } from '../../../host/api/mcp/loopback-guard.ts'

describe('the /mcp loopback guard (DNS rebinding)', () => {
  it.each([
    ['127.0.0.1:4380', true],
    ['127.0.0.1', true],
    ['127.1.2.3:80', true],
    ['localhost:4380', true],
    ['LOCALHOST:4380', true],
    ['[::1]:4380', true],
    ['evil.example:4380', false],
    ['localhost.evil.example', false],
    ['127.0.0.1.evil.example:4380', false],
    ['10.0.0.5:4380', false],
    ['', false],
    [undefined, false],
  ])('Host %s -> %s', (host, allowed) => {
    expect(hostAllowed(host)).toBe(allowed)
  })

  it('accepts the address the API was told to listen on', () => {
    expect(hostAllowed('192.168.1.20:4380', ['192.168.1.20'])).toBe(true)
    expect(originAllowed('http://192.168.1.20:4380', ['192.168.1.20'])).toBe(true)
  })

  it.each([
    [undefined, true],
    ['http://localhost:5173', true],
    ['https://127.0.0.1', true],
    ['http://[::1]:8080', true],
    ['http://evil.example', false],
    ['http://localhost.evil.example', false],
    ['null', false],
    ['file://localhost', false],
    ['not a url', false],
  ])('Origin %s -> %s', (origin, allowed) => {
    expect(originAllowed(origin)).toBe(allowed)
  })
})
