/**
 * Which addresses a URL a request makes this peer fetch may lead to without the peer allowing local
 * ones: public ones only (not loopback, private, link-local, shared or unspecified, in IPv4 or IPv6,
 * nor an IPv4 one written as IPv6). The fetch itself, redirects included, is tested
 * through image URLs (tests/unit/api/image-parts.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { isPublicAddress } from '../../../host/net/guarded-fetch.ts'

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2606:4700:4700::1111', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.9', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['::ffff:7f00:1', false],
    ['::ffff:a00:1', false],
    ['not an address', false],
  ])('%s: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected)
  })
})
