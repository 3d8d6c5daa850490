//! Id lookup for the JSON layer: string ids to dense indices.
//!
//! A map keyed by `&str` compares a candidate against a key that lives somewhere in the
//! input text, a cache miss per lookup on large rounds. Ids of 1 to 15 bytes (the usual
//! case) are therefore packed into a `u128` key stored in the table itself: an open
//! addressing table at most half full, so a lookup usually reads one slot. Resolving
//! many ids, [`IdIndex::get_many`] reads the slots of a group of ids one after the
//! other before comparing any, so their cache misses overlap instead of queueing (the
//! table of a 100k-talent round is several MB, and each lookup lands anywhere in it).
//! Longer ids use a second map keyed by `&str`.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// String id → index.
#[derive(Debug)]
pub(crate) struct IdIndex<'a> {
    short: ShortTable,
    long: HashMap<&'a str, u32, SeededHash>,
}

/// Ids looked up together by [`IdIndex::get_many`].
pub(crate) const GROUP: usize = 16;

impl<'a> IdIndex<'a> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let hash = SeededHash::new();
        Self {
            short: ShortTable::with_capacity(n, hash.0),
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
            Some(key) => self.short.get(key),
            None => self.long.get(id).copied(),
        }
    }

    /// Looks up every id of `ids` (at most [`GROUP`]) into `out`, `None` for an unknown one.
    #[inline]
    pub(crate) fn get_many(&self, ids: &[&str], out: &mut [Option<u32>]) {
        let mut keys = [Key::default(); GROUP];
        let mut slots = [Slot::default(); GROUP];
        let n = ids.len().min(GROUP).min(out.len());
        for j in 0..n {
            keys[j] = pack(ids[j]).unwrap_or_default();
        }
        // Independent reads, issued back to back: the misses overlap.
        for j in 0..n {
            slots[j] = self.short.slots[self.short.home(keys[j])];
        }
        for j in 0..n {
            out[j] = if keys[j].is_empty() {
                self.long.get(ids[j]).copied()
            } else if slots[j].key == keys[j] {
                Some(slots[j].value)
            } else if slots[j].key.is_empty() {
                None
            } else {
                self.short.get(keys[j])
            };
        }
    }
}

/// An id of 1 to 15 bytes: its bytes, zero-padded, with the length in the last byte (so
/// "a" and "a\0" differ). Two words rather than a `u128`, so a slot is 24 bytes, not 32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Key {
    lo: u64,
    hi: u64,
}

impl Key {
    /// The all-zero key, which no id packs to: it marks empty slots.
    fn is_empty(self) -> bool {
        self.hi == 0
    }
}

/// A slot of [`ShortTable`].
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    key: Key,
    value: u32,
}

/// Packed id → index, open addressing with linear probing, at most half full.
#[derive(Debug)]
struct ShortTable {
    slots: Vec<Slot>,
    len: usize,
    seed: u64,
}

impl ShortTable {
    fn with_capacity(n: usize, seed: u64) -> Self {
        Self {
            slots: vec![Slot::default(); (2 * n).max(8).next_power_of_two()],
            len: 0,
            seed,
        }
    }

    #[inline]
    fn home(&self, key: Key) -> usize {
        let x = u128::from(key.lo ^ self.seed) * 0x9E37_79B9_7F4A_7C15_u128;
        let folded = (x as u64) ^ ((x >> 64) as u64) ^ key.hi;
        let y = u128::from(folded) * 0xD6E8_FEB8_6659_FD93_u128;
        ((y as u64) ^ ((y >> 64) as u64)) as usize & (self.slots.len() - 1)
    }

    fn get(&self, key: Key) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            if slot.key == key {
                return Some(slot.value);
            }
            if slot.key.is_empty() {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, key: Key, value: u32) -> Option<u32> {
        if 2 * (self.len + 1) > self.slots.len() {
            let mut bigger = Self::with_capacity(self.slots.len(), self.seed);
            for slot in self.slots.iter().filter(|s| !s.key.is_empty()) {
                bigger.insert(slot.key, slot.value);
            }
            *self = bigger;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = &mut self.slots[i];
            if slot.key.is_empty() {
                *slot = Slot { key, value };
                self.len += 1;
                return None;
            }
            if slot.key == key {
                return Some(std::mem::replace(&mut slot.value, value));
            }
            i = (i + 1) & mask;
        }
    }
}

impl Default for IdIndex<'_> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

/// The [`Key`] of an id; `None` for the empty id and ids longer than 15 bytes.
#[inline]
fn pack(id: &str) -> Option<Key> {
    let bytes = id.as_bytes();
    if bytes.is_empty() || bytes.len() > 15 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    buf[15] = bytes.len() as u8;
    let (lo, hi) = buf.split_at(8);
    Some(Key {
        lo: u64::from_le_bytes(lo.try_into().ok()?),
        hi: u64::from_le_bytes(hi.try_into().ok()?),
    })
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

    #[test]
    fn grows_replaces_and_looks_up_in_groups() {
        let ids: Vec<String> = (0..5_000).map(|i| format!("id{i}")).collect();
        let mut index = IdIndex::default();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.insert(id, i as u32), None);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id), Some(i as u32));
        }
        assert_eq!(index.insert(&ids[42], 7), Some(42));
        assert_eq!(index.get(&ids[42]), Some(7));
        assert_eq!(index.get("id5000"), None);

        let long = "an-id-longer-than-fifteen-bytes";
        index.insert(long, 9_000);
        let group = [
            "id3",
            "",
            long,
            "nope",
            "id4999",
            "id42",
            "a-long-unknown-id-x",
            "id0",
        ];
        let mut out = [None; GROUP];
        index.get_many(&group, &mut out);
        let want = [
            Some(3),
            None,
            Some(9_000),
            None,
            Some(4_999),
            Some(7),
            None,
            Some(0),
        ];
        assert_eq!(out[..group.len()], want);
        let mut out = [Some(1); GROUP];
        index.get_many(&group[..3], &mut out);
        assert_eq!(out[..3], want[..3]);
        assert_eq!(out[3], Some(1));
    }
}
