/**
 * The Merkle tree of a batch, as RFC 9162 (Certificate Transparency 2.0) defines it: a leaf's hash is
 * H(0x00 || leaf), a node's H(0x01 || left || right), and a tree of n leaves splits at the largest
 * power of two below n. H is blake2b-256 (the rules crate computes the same). An audit path proves one
 * leaf against the root, given the leaf's index and the tree's size. Pure.
 */
import { blake2b } from '@noble/hashes/blake2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

const LEAF = 0
const NODE = 1

const digest = (prefix: number, ...parts: Uint8Array[]): Uint8Array => {
  const h = blake2b.create({ dkLen: 32 })
  h.update(Uint8Array.of(prefix))
  for (const part of parts) h.update(part)
  return h.digest()
}

export function leafHash(leaf: Uint8Array): Uint8Array {
  return digest(LEAF, leaf)
}

/** The largest power of two below n (n > 1). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function treeHash(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0]!
  const k = split(hashes.length)
  return digest(NODE, treeHash(hashes.slice(0, k)), treeHash(hashes.slice(k)))
}

/**
 * The root of the hashes and every leaf's audit path (leaf up), in one pass: each subtree's hash is
 * computed once (n - 1 node hashes in all; a path per leaf computed apart hashed its siblings' subtrees
 * again, n^2 hashes for a window of n answers).
 */
function treeWithPaths(hashes: Uint8Array[]): { root: Uint8Array; paths: Uint8Array[][] } {
  if (hashes.length === 1) return { root: hashes[0]!, paths: [[]] }
  const k = split(hashes.length)
  const left = treeWithPaths(hashes.slice(0, k))
  const right = treeWithPaths(hashes.slice(k))
  for (const path of left.paths) path.push(right.root)
  for (const path of right.paths) path.push(left.root)
  return { root: digest(NODE, left.root, right.root), paths: [...left.paths, ...right.paths] }
}

/** The root of the leaves (at least one), as hex. */
export function merkleRoot(leaves: Uint8Array[]): string {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf')
  return bytesToHex(treeHash(leaves.map(leafHash)))
}

/** Every leaf's audit path (hex digests from the leaf up), in leaf order. */
export function merklePaths(leaves: Uint8Array[]): string[][] {
  return treeWithPaths(leaves.map(leafHash)).paths.map((path) => path.map(bytesToHex))
}

/** Whether `path` proves `leaf` at `index` of a tree of `count` leaves whose root is `root` (RFC 9162 2.1.3.2). */
export function verifyMerklePath(
  leaf: Uint8Array,
  index: number,
  count: number,
  path: readonly string[],
  root: string,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return false
  let fn = index
  let sn = count - 1
  let r = leafHash(leaf)
  for (const hex of path) {
    if (sn === 0 || !/^[0-9a-f]{64}$/.test(hex)) return false
    const p = hexToBytes(hex)
    if (fn % 2 === 1 || fn === sn) {
      r = digest(NODE, p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = digest(NODE, r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && bytesToHex(r) === root
}
