//! A hash map with a hard bound on its size, for the per-source state that
//! attackers control (a SYN flood from a million spoofed sources must not
//! grow memory without limit).
//!
//! Two generations: entries live in `current`; when it is full, it becomes
//! `previous` and the old `previous` is dropped whole. An entry touched again
//! moves back to `current`, so state of an ongoing attack survives while
//! one-off entries age out. O(1), no per-entry timestamps, at most twice the
//! capacity. Hashing is randomly seeded (foldhash), so a sender cannot choose
//! keys that collide.

use std::collections::hash_map::{Entry, HashMap};
use std::hash::Hash;

use foldhash::fast::RandomState;

pub struct BoundedMap<K, V> {
    current: HashMap<K, V, RandomState>,
    previous: HashMap<K, V, RandomState>,
    capacity: usize,
    evicted: u64,
}

impl<K: Hash + Eq + Copy, V> BoundedMap<K, V> {
    /// At most `2 × capacity` entries are ever held.
    pub fn new(capacity: usize) -> Self {
        BoundedMap {
            current: HashMap::with_hasher(RandomState::default()),
            previous: HashMap::with_hasher(RandomState::default()),
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    /// The entry for `key`, created by `make` when absent. The boolean tells
    /// whether it was just created.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> (&mut V, bool) {
        if self.current.len() >= self.capacity && !self.current.contains_key(&key) {
            self.rotate();
        }
        match self.current.entry(key) {
            Entry::Occupied(entry) => (entry.into_mut(), false),
            Entry::Vacant(entry) => match self.previous.remove(&key) {
                Some(value) => (entry.insert(value), false),
                None => (entry.insert(make()), true),
            },
        }
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if self.current.contains_key(key) {
            return self.current.get_mut(key);
        }
        let value = self.previous.remove(key)?;
        if self.current.len() >= self.capacity {
            self.rotate();
        }
        Some(self.current.entry(*key).or_insert(value))
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.current
            .remove(key)
            .or_else(|| self.previous.remove(key))
    }

    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries dropped so far because the table was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Every entry, in no particular order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.current.iter_mut().chain(self.previous.iter_mut())
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.current.retain(&mut keep);
        self.previous.retain(&mut keep);
    }

    fn rotate(&mut self) {
        self.evicted += self.previous.len() as u64;
        std::mem::swap(&mut self.current, &mut self.previous);
        // `clear` keeps the allocation: after warm-up, rotating allocates nothing.
        self.current.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_keeps_what_is_used() {
        let mut map = BoundedMap::new(100);
        for i in 0..100_000u32 {
            let (value, _) = map.get_or_insert_with(i, || 0u32);
            *value += 1;
            // Key 7 keeps being touched: it must survive every rotation.
            *map.get_or_insert_with(7, || 0).0 += 1;
            assert!(map.len() <= 200);
        }
        assert_eq!(*map.get_mut(&7).unwrap(), 100_000 + 1);
        assert!(map.get_mut(&3).is_none());
        assert!(map.evicted() > 99_000);
    }

    #[test]
    fn reports_creation() {
        let mut map = BoundedMap::new(4);
        assert!(map.get_or_insert_with(1, || ()).1);
        assert!(!map.get_or_insert_with(1, || ()).1);
        assert_eq!(map.remove(&1), Some(()));
        assert!(map.is_empty());
    }
}
