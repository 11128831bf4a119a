//! Finding names fast and deterministically: FNV-1a (64 bits), the one hash of switchyard's lookup tables and
//! duplicate finders, and [`Table`], the one open-addressing table they use. The hash is fixed, so the same on
//! every platform and in every run; the tables are never iterated, so no output depends on it.

/// FNV-1a's offset basis: the hash of nothing.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The FNV-1a hash of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

/// FNV-1a continued from `seed` (e.g. the offset basis mixed with a section, to keep sections apart).
pub fn fnv1a_from(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// An index over a list the caller keeps: each slot holds the position of an entry in that list, found from the
/// entry's hash, and the caller's own comparison tells a match from a collision. One or two key comparisons per
/// lookup instead of a binary search's fifteen for 20,000 names; the list keeps its order (file order, name
/// order), which is what gets iterated.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Position + 1 of the entry in each slot; 0 for an empty slot. Always a power of two long, or empty.
    slots: Vec<u32>,
    /// The hash of each slot's entry (to place it again when the table grows).
    hashes: Vec<u64>,
    len: usize,
}

impl Table {
    /// A table for `entries` entries, which never grows while it holds no more.
    pub fn with_capacity(entries: usize) -> Self {
        let size = (entries * 2).next_power_of_two().max(8);
        Table { slots: vec![0; size], hashes: vec![0; size], len: 0 }
    }

    /// Records that the entry at `position` of the caller's list has `hash`. The caller checks first that its key
    /// is not there yet (with [`Table::find`]) where keys must be unique.
    pub fn insert(&mut self, hash: u64, position: usize) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(hash, u32::try_from(position + 1).unwrap_or(u32::MAX));
        self.len += 1;
    }

    /// The position of the entry with `hash` for which `is(position)` holds, if any.
    pub fn find(&self, hash: u64, mut is: impl FnMut(usize) -> bool) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = Self::home(hash, mask);
        loop {
            match self.slots[at] {
                0 => return None,
                i if self.hashes[at] == hash && is(i as usize - 1) => return Some(i as usize - 1),
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn home(hash: u64, mask: usize) -> usize {
        // Truncating the hash to the table size is the point.
        #[allow(clippy::cast_possible_truncation)]
        let at = hash as usize;
        at & mask
    }

    fn place(&mut self, hash: u64, entry: u32) {
        let mask = self.slots.len() - 1;
        let mut at = Self::home(hash, mask);
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = entry;
        self.hashes[at] = hash;
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        let slots = std::mem::replace(&mut self.slots, vec![0; size]);
        let hashes = std::mem::replace(&mut self.hashes, vec![0; size]);
        for (entry, hash) in slots.into_iter().zip(hashes) {
            if entry != 0 {
                self.place(hash, entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_table_finds_every_entry_and_nothing_else_through_collisions_and_growth() {
        let names: Vec<String> = (0..500).map(|i| format!("router-{i}")).collect();
        // A hash that collides all the time must still find the right entry, by the caller's comparison.
        for hash in [fnv1a as fn(&[u8]) -> u64, |b: &[u8]| (b.len() % 3) as u64] {
            let mut table = Table::default();
            for (i, name) in names.iter().enumerate() {
                assert_eq!(table.find(hash(name.as_bytes()), |j| names[j] == *name), None);
                table.insert(hash(name.as_bytes()), i);
            }
            for (i, name) in names.iter().enumerate() {
                assert_eq!(table.find(hash(name.as_bytes()), |j| names[j] == *name), Some(i));
            }
            assert_eq!(table.find(hash(b"router-500"), |j| names[j] == "router-500"), None);
        }
        let small = Table::with_capacity(3);
        assert_eq!(small.find(fnv1a(b"a"), |_| true), None);
    }
}
