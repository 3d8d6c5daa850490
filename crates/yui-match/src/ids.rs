//! Id lookup for the JSON layer: string ids to dense indices.
//!
//! A map keyed by `&str` compares a candidate against a key that lives somewhere in the
//! input text, a cache miss per lookup on large rounds. Ids of up to 15 bytes (the usual
//! case) are therefore packed into a `u128` key stored in the table itself; longer ids
//! use a second map keyed by `&str`.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// String id → index.
#[derive(Debug)]
pub(crate) struct IdIndex<'a> {
    short: HashMap<u128, u32, SeededHash>,
    long: HashMap<&'a str, u32, SeededHash>,
}

impl<'a> IdIndex<'a> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let hash = SeededHash::new();
        Self {
            short: HashMap::with_capacity_and_hasher(n, hash),
            long: HashMap::with_hasher(hash),
        }
    }

    /// Adds `id` → `index`; returns the earlier index if the id was already there.
    pub(crate) fn insert(&mut self, id: &'a str, index: u32) -> Option<u32> {
        match pack(id) {
            Some(key) => self.short.insert(key, index),
            None => self.long.insert(id, index),
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<u32> {
        match pack(id) {
            Some(key) => self.short.get(&key).copied(),
            None => self.long.get(id).copied(),
        }
    }
}

impl Default for IdIndex<'_> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

/// Bytes in the low 15 bytes, length in the top byte (so "a" and "a\0" differ).
fn pack(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() > 15 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    buf[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(buf))
}

/// A multiply-mix hasher with a per-map random seed: much cheaper than SipHash for
/// short keys, and the seed keeps crafted ids from colliding on purpose.
#[derive(Clone, Copy, Debug)]
struct SeededHash(u64);

impl SeededHash {
    fn new() -> Self {
        Self(RandomState::new().build_hasher().finish() | 1)
    }
}

impl BuildHasher for SeededHash {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(self.0)
    }
}

#[derive(Clone, Copy, Debug)]
struct MixHasher(u64);

impl MixHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        let x = u128::from(self.0 ^ word) * 0x9E37_79B9_7F4A_7C15_u128;
        self.0 = (x as u64) ^ ((x >> 64) as u64);
    }
}

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u128(&mut self, i: u128) {
        self.mix(i as u64);
        self.mix((i >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        // One more round so the top bits (the table's tag) depend on every input bit.
        let x = u128::from(self.0) * 0xD6E8_FEB8_6659_FD93_u128;
        (x as u64) ^ ((x >> 64) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_ids() {
        let long = "a-rather-long-talent-identifier";
        let mut index = IdIndex::with_capacity(4);
        assert_eq!(index.insert("a", 0), None);
        assert_eq!(index.insert("a\0", 1), None);
        assert_eq!(index.insert("", 2), None);
        assert_eq!(index.insert(long, 3), None);
        assert_eq!(index.insert("a", 9), Some(0));
        assert_eq!(index.get("a"), Some(9));
        assert_eq!(index.get("a\0"), Some(1));
        assert_eq!(index.get(""), Some(2));
        assert_eq!(index.get(long), Some(3));
        assert_eq!(index.get("b"), None);
        assert_eq!(index.get("a-rather-long-talent-identifieR"), None);
    }
}
