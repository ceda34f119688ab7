/**
 * The batches' Merkle tree (RFC 9162 with blake2b-256): every leaf of trees of 1 to 33 leaves proves
 * against its root, and nothing else does (another leaf, index, root or path).
 */
import { blake2b } from '@noble/hashes/blake2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { leafHash, merklePaths, merkleRoot, verifyMerklePath } from '../../../zomes-bindings/merkle.ts'

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${i}`))

describe('merkle', () => {
  it('hashes one leaf with the leaf prefix, and two under a node', () => {
    const [a, b] = leavesOf(2) as [Uint8Array, Uint8Array]
    expect(merkleRoot([a])).toBe(bytesToHex(blake2b(Uint8Array.of(0, ...a), { dkLen: 32 })))
    const node = blake2b(Uint8Array.of(1, ...leafHash(a), ...leafHash(b)), { dkLen: 32 })
    expect(merkleRoot([a, b])).toBe(bytesToHex(node))
    expect(merklePaths([a, b])).toEqual([[bytesToHex(leafHash(b))], [bytesToHex(leafHash(a))]])
  })

  it('refuses an empty tree', () => {
    expect(() => merkleRoot([])).toThrow(RangeError)
  })

  for (let n = 1; n <= 33; n++) {
    it(`proves each of ${n} leaves, and only it`, () => {
      const leaves = leavesOf(n)
      const root = merkleRoot(leaves)
      const paths = merklePaths(leaves)
      for (let i = 0; i < n; i++) {
        const path = paths[i]!
        expect(verifyMerklePath(leaves[i]!, i, n, path, root)).toBe(true)
        expect(verifyMerklePath(new TextEncoder().encode('forged'), i, n, path, root)).toBe(false)
        if (n > 1) {
          expect(verifyMerklePath(leaves[i]!, (i + 1) % n, n, path, root)).toBe(false)
          expect(verifyMerklePath(leaves[i]!, i, n, ['0'.repeat(64), ...path.slice(1)], root)).toBe(false)
          expect(verifyMerklePath(leaves[i]!, i, n, path.slice(1), root)).toBe(false)
        }
        expect(verifyMerklePath(leaves[i]!, i, n, path, '0'.repeat(64))).toBe(false)
        expect(verifyMerklePath(leaves[i]!, n, n, path, root)).toBe(false)
      }
    })
  }
})
