//! BLAKE2b (RFC 7693), unkeyed: a HoloHash's DHT location (blake2b-128 of 32 bytes) and the batches'
//! Merkle trees (blake2b-256 of leaves of any length). No crate for it is packaged in Debian, and the rules
//! must not depend on the host.

const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

const SIGMA: [[usize; 16]; 12] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

fn mix(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

/// Compresses one 128-byte block into `h`; `t` counts the bytes hashed so far (this block included),
/// `last` marks the final block.
fn compress(h: &mut [u64; 8], block: &[u8; 128], t: u128, last: bool) {
    let mut m = [0u64; 16];
    for (i, word) in m.iter_mut().enumerate() {
        *word = u64::from_le_bytes(block[i * 8..i * 8 + 8].try_into().unwrap());
    }
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(h);
    v[8..].copy_from_slice(&IV);
    v[12] ^= t as u64;
    v[13] ^= (t >> 64) as u64;
    if last {
        v[14] = !v[14];
    }
    for s in SIGMA.iter() {
        mix(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        mix(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        mix(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        mix(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        mix(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        mix(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        mix(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        mix(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

/// Unkeyed BLAKE2b with an `N`-byte digest (N <= 64), fed in parts.
pub struct Blake2b<const N: usize> {
    h: [u64; 8],
    /// Bytes not compressed yet: the last block is only compressed once it is known to be the last.
    buf: [u8; 128],
    buf_len: usize,
    /// Bytes compressed so far.
    t: u128,
}

impl<const N: usize> Blake2b<N> {
    pub fn new() -> Self {
        assert!(N >= 1 && N <= 64);
        let mut h = IV;
        h[0] ^= 0x0101_0000 ^ N as u64;
        Blake2b { h, buf: [0; 128], buf_len: 0, t: 0 }
    }

    pub fn update(&mut self, mut data: &[u8]) -> &mut Self {
        while !data.is_empty() {
            if self.buf_len == 128 {
                self.t += 128;
                compress(&mut self.h, &self.buf, self.t, false);
                self.buf_len = 0;
            }
            let n = (128 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + n].copy_from_slice(&data[..n]);
            self.buf_len += n;
            data = &data[n..];
        }
        self
    }

    pub fn finalize(mut self) -> [u8; N] {
        self.t += self.buf_len as u128;
        self.buf[self.buf_len..].fill(0);
        compress(&mut self.h, &self.buf, self.t, true);
        let mut out = [0u8; 64];
        for (i, word) in self.h.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        out[..N].try_into().unwrap()
    }
}

impl<const N: usize> Default for Blake2b<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// BLAKE2b with an `N`-byte digest (N <= 64) of `data`, of any length.
pub fn blake2b<const N: usize>(data: &[u8]) -> [u8; N] {
    let mut h = Blake2b::<N>::new();
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::{blake2b, Blake2b};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn counting(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn known_answers() {
        // RFC 7693 appendix A and the reference BLAKE2b-512 of the empty string.
        assert_eq!(
            hex(&blake2b::<64>(b"abc")),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        );
        assert_eq!(
            hex(&blake2b::<64>(b"")),
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        );
    }

    /// Against @noble/hashes `blake2b(bytes, { dkLen })` of the bytes 0, 1, .. 250, 0, 1, ..
    #[test]
    fn multi_block_against_noble() {
        let cases: [(usize, &str); 6] = [
            (127, "f2fe67ff342e21b8f45e8f2e0bcd1d9243245d50ee6c78042e9c491388791c72"),
            (128, "c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb2488c1d1"),
            (129, "f7f3c46ba2564ff4c4c162da1f5b605f9f1c4aa6a20652a9f9a337c1a2f5b9c9"),
            (256, "582f782226018ec33076bd8d1c42413530ac7e1126260ffc0f306ba3befc3f24"),
            (257, "227e15ed64ee8e93eb7bc53828f76eed974f2c4ab1408c3d08f212b7f8d69904"),
            (1000, "b372d0608f720c8c3dd41e9c8eecb10143b41abe520b616607e754bf79c08331"),
        ];
        for (n, want) in cases {
            assert_eq!(hex(&blake2b::<32>(&counting(n))), want, "{n} bytes");
        }
        assert_eq!(hex(&blake2b::<32>(b"abc")), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
        assert_eq!(hex(&blake2b::<16>(&counting(300))), "a021a719dabbbce707bec49e7a6c9865");
        assert_eq!(
            hex(&blake2b::<64>(&counting(300))),
            "3a482b7748b0bdc43c3d00c080890c10e57a9aa5618f78b86067eb7eaae4942acd96d827accbc16958364ae5b0df6105bbd3b15445092eba1137b5f69c1070f1"
        );
    }

    /// Fed in parts of any size, the digest is that of the whole.
    #[test]
    fn parts_make_the_whole() {
        let data = counting(1000);
        let whole = blake2b::<32>(&data);
        for cut in [0, 1, 127, 128, 129, 256, 999, 1000] {
            let mut h = Blake2b::<32>::new();
            h.update(&data[..cut]).update(&data[cut..]);
            assert_eq!(h.finalize(), whole, "cut at {cut}");
        }
        let mut h = Blake2b::<32>::new();
        for chunk in data.chunks(7) {
            h.update(chunk);
        }
        assert_eq!(h.finalize(), whole);
    }
}
