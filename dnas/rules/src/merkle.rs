//! The Merkle tree of a batch, as `zomes-bindings/merkle.ts` computes it (RFC 9162, Certificate
//! Transparency 2.0): a leaf's hash is H(0x00 || leaf), a node's H(0x01 || left || right), a tree of n
//! leaves splits at the largest power of two below n, and H is blake2b-256. Digests cross the contract as
//! 64 lowercase hex characters.
use crate::blake2b::Blake2b;

pub type Digest = [u8; 32];

const LEAF: u8 = 0;
const NODE: u8 = 1;

pub fn leaf_hash(leaf: &[u8]) -> Digest {
    let mut h = Blake2b::<32>::new();
    h.update(&[LEAF]).update(leaf);
    h.finalize()
}

pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = Blake2b::<32>::new();
    h.update(&[NODE]).update(left).update(right);
    h.finalize()
}

/// The largest power of two below n (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root of a tree over leaf hashes (at least one).
fn tree_hash(hashes: &[Digest]) -> Digest {
    if hashes.len() == 1 {
        return hashes[0];
    }
    let k = split(hashes.len());
    node_hash(&tree_hash(&hashes[..k]), &tree_hash(&hashes[k..]))
}

fn audit_path(index: usize, hashes: &[Digest], out: &mut Vec<Digest>) {
    if hashes.len() == 1 {
        return;
    }
    let k = split(hashes.len());
    if index < k {
        audit_path(index, &hashes[..k], out);
        out.push(tree_hash(&hashes[k..]));
    } else {
        audit_path(index - k, &hashes[k..], out);
        out.push(tree_hash(&hashes[..k]));
    }
}

/// The root of the leaves (as bytes), or None for no leaves.
pub fn root<L: AsRef<[u8]>>(leaves: &[L]) -> Option<Digest> {
    if leaves.is_empty() {
        return None;
    }
    let hashes: Vec<Digest> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
    Some(tree_hash(&hashes))
}

/// The audit path of the leaf at `index` (sibling digests from the leaf up), or None when out of range.
pub fn path<L: AsRef<[u8]>>(leaves: &[L], index: usize) -> Option<Vec<Digest>> {
    if index >= leaves.len() {
        return None;
    }
    let hashes: Vec<Digest> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
    let mut out = Vec::new();
    audit_path(index, &hashes, &mut out);
    Some(out)
}

/// Whether `path` (hex digests) proves `leaf` at `index` of a tree of `count` leaves whose root is `root`
/// (hex): RFC 9162 2.1.3.2, as `verifyMerklePath`.
pub fn verify<S: AsRef<str>>(leaf: &[u8], index: u64, count: u64, path: &[S], root: &str) -> bool {
    if index >= count {
        return false;
    }
    let (mut fn_, mut sn) = (index, count - 1);
    let mut r = leaf_hash(leaf);
    for hex in path {
        let p = match from_hex(hex.as_ref()) {
            Some(p) if sn != 0 => p,
            _ => return false,
        };
        if fn_ % 2 == 1 || fn_ == sn {
            r = node_hash(&p, &r);
            while fn_ % 2 == 0 && fn_ != 0 {
                fn_ /= 2;
                sn /= 2;
            }
        } else {
            r = node_hash(&r, &p);
        }
        fn_ /= 2;
        sn /= 2;
    }
    sn == 0 && to_hex(&r) == root
}

pub fn to_hex(d: &Digest) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A digest from 64 lowercase hex characters (anything else is None, as the contract's `DigestHex`).
pub fn from_hex(s: &str) -> Option<Digest> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    fn hex_path(p: &[Digest]) -> Vec<String> {
        p.iter().map(to_hex).collect()
    }

    /// Roots computed by zomes-bindings/merkle.ts (`merkleRoot`) over the leaves "leaf 0", "leaf 1", ..
    #[test]
    fn roots_match_the_contract() {
        let want = [
            (1, "6d4956ede9f4ee7a09942103ded156875ce763d464934de3a8550a2f28957db0"),
            (2, "35523e1f8b8254af9bd4a6fcb5ec3461ac259bffebf89da576ab46ea639b0f89"),
            (3, "04ff8670c8ba7606ca7dac4b738e9efa139e2d6d7e89a93ab5a2e963cda2d8d9"),
            (5, "907c20316d72f6d43ec7194df2530cfa15ba8d31efb0772cb6ef284afad4462c"),
            (8, "5323646eb7ef69eee833b58833dad83e123349a987dff33889014ba56c35bf16"),
            (13, "766ee11e5dc7fb210ff1ed260cf34295dc15a980d262b9ef96091f8188daeb42"),
        ];
        for (n, root_hex) in want {
            assert_eq!(to_hex(&root(&leaves(n)).unwrap()), root_hex, "{n} leaves");
        }
        assert_eq!(to_hex(&leaf_hash(b"")), "03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314");
        assert_eq!(root::<Vec<u8>>(&[]), None);
    }

    /// Paths computed by `merklePaths` (5 leaves, leaf 4; 13 leaves, leaf 6).
    #[test]
    fn paths_match_the_contract() {
        assert_eq!(hex_path(&path(&leaves(5), 4).unwrap()), ["8770c964546edc82500885cdb8684758c574f036c0469d765c1cf672bbc619ed"]);
        assert_eq!(hex_path(&path(&leaves(13), 6).unwrap()), [
                "ffe71bbb933a651126bf4d492736aecf6043c5b6ebe9d6dab0cad669e1dc3c72",
                "d5f867a6e63f9c30b3522c4e48d820e7c70e8b5a3983f581aba4410ad2a86b3d",
                "8770c964546edc82500885cdb8684758c574f036c0469d765c1cf672bbc619ed",
                "46162a40775bc7b03217f991107af6521933ffa259b65406cbbccbb759866ee4",
            ]);
        assert_eq!(path(&leaves(1), 0), Some(vec![]));
        assert_eq!(path(&leaves(3), 3), None);
    }

    #[test]
    fn every_path_verifies_and_nothing_else_does() {
        for n in 1..=20 {
            let ls = leaves(n);
            let r = to_hex(&root(&ls).unwrap());
            for i in 0..n {
                let p = hex_path(&path(&ls, i).unwrap());
                assert!(verify(&ls[i], i as u64, n as u64, &p, &r), "{n} leaves, leaf {i}");
                // Another leaf, index or root, or a path cut or lengthened, does not. (Another size may: a path
                // of leaf 0 of 5 leaves also proves it of 6, which is why the rules hold a proof's count to
                // its batch's.)
                assert!(!verify(b"other", i as u64, n as u64, &p, &r));
                if n > 1 {
                    assert!(!verify(&ls[i], ((i + 1) % n) as u64, n as u64, &p, &r));
                    assert!(!verify(&ls[i], i as u64, n as u64, &p[..p.len() - 1], &r));
                }
                let mut longer = p.clone();
                longer.push(r.clone());
                assert!(!verify(&ls[i], i as u64, n as u64, &longer, &r));
                assert!(!verify(&ls[i], i as u64, n as u64, &p, &to_hex(&leaf_hash(b"x"))));
            }
            assert!(!verify(&ls[0], n as u64, n as u64, &[] as &[String], &r));
        }
    }

    /// The caveat above: the same path proves leaf 0 of 5 leaves and of 6.
    #[test]
    fn a_path_does_not_pin_the_size() {
        let five = leaves(5);
        let p = hex_path(&path(&five, 0).unwrap());
        let r = to_hex(&root(&five).unwrap());
        assert!(verify(&five[0], 0, 5, &p, &r));
        assert!(verify(&five[0], 0, 6, &p, &r));
    }

    #[test]
    fn verify_refuses_malformed_digests() {
        let ls = leaves(2);
        let r = to_hex(&root(&ls).unwrap());
        let p = hex_path(&path(&ls, 0).unwrap());
        assert!(verify(&ls[0], 0, 2, &p, &r));
        assert!(!verify(&ls[0], 0, 2, &[p[0].to_uppercase()], &r));
        assert!(!verify(&ls[0], 0, 2, &[&p[0][..62]], &r));
        assert!(!verify(&ls[0], 0, 0, &p, &r));
    }

    #[test]
    fn hex_round_trip() {
        let d = leaf_hash(b"abc");
        assert_eq!(from_hex(&to_hex(&d)), Some(d));
        assert_eq!(from_hex("zz"), None);
    }
}
