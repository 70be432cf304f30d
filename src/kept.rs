//! Decoded records kept between reads: a listing (DescribeImages, QueryFigureClusters) reads a
//! page of records and would otherwise decode each one, and its dialect render it, on every
//! request.
//!
//! An entry is the record's stored bytes, the record decoded from them and a slot for the
//! dialect's wire form of it. It is used only when the bytes just read from the store are the
//! bytes it was decoded from, so a changed (or replaced, or reset) record is never served
//! stale, on any engine and with other nodes writing; or, without a read, when its bytes were
//! read between two equal write generations and the store is still at that generation
//! ([`KeptMap::read_many`]; only on a data dir, see [`KeptAnswers`]). What a reader sees that depends on the
//! time, on the caller or on another record (an image's `ImageState`, `SyncPercent` and
//! `ImageType`; a cluster's cover file) is not part of an entry's record: it is worked out per
//! request, or kept in the wire slot together with what it was made from.
//!
//! A map is bounded ([`CAPACITY`] entries, in shards under their own lock); a full shard
//! drops an arbitrary entry for a new one.
//!
//! [`KeptAnswers`] keeps more than a record: what a listing read from the store (a page's
//! records, its total), for as long as the store's write generation is unchanged
//! ([`Store::generation`]). That needs no read to validate, so it is only possible where this
//! process is the store's only writer (a data dir); over a database every read goes to it.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::store::{decode, Record, Store, StoreError, Tree};

/// `Kept::seen_at` of an entry not known to be the store's state at any generation.
const UNSEEN: u64 = u64::MAX;

/// Most entries kept.
pub const CAPACITY: usize = 8192;
const SHARDS: usize = 16;

/// A record decoded from its stored bytes, with the dialect's rendering of it once asked for.
pub struct Kept<R> {
    bytes: Box<[u8]>,
    /// The record.
    pub record: R,
    wire: OnceLock<Box<dyn Any + Send + Sync>>,
    /// What the service works out of the record alone (a cluster's statistics), once.
    derived: OnceLock<Box<dyn Any + Send + Sync>>,
    /// A write generation at which `bytes` were the stored bytes ([`UNSEEN`] when none is
    /// known): while the store stays at it, the entry is the record without a read.
    seen_at: AtomicU64,
}

impl<R> Kept<R> {
    /// A record that is not (or not yet) stored: nothing is kept of it beyond this value.
    pub fn fresh(record: R) -> Kept<R> {
        Kept {
            bytes: Box::default(),
            record,
            wire: OnceLock::new(),
            derived: OnceLock::new(),
            seen_at: AtomicU64::new(UNSEEN),
        }
    }

    /// The wire form of the record made by `make`, made once per entry. `None` when another
    /// form is kept in the entry (one dialect renders each kind of record, so it never is).
    pub fn wire<T: Any + Send + Sync>(&self, make: impl FnOnce(&R) -> T) -> Option<&T> {
        made_once(&self.wire, &self.record, make)
    }

    /// A value the service derives from the record alone (never from the time, the caller or
    /// another record), made once per entry; `None` when another kind is kept (one kind per
    /// kind of record, so it never is).
    pub fn derived<T: Any + Send + Sync>(&self, make: impl FnOnce(&R) -> T) -> Option<&T> {
        made_once(&self.derived, &self.record, make)
    }
}

/// The value in `slot`, made from `record` by `make` the first time; `None` when the slot
/// holds another type.
fn made_once<'a, R, T: Any + Send + Sync>(
    slot: &'a OnceLock<Box<dyn Any + Send + Sync>>,
    record: &R,
    make: impl FnOnce(&R) -> T,
) -> Option<&'a T> {
    slot.get_or_init(|| Box::new(make(record)))
        .downcast_ref::<T>()
}

impl<R> std::ops::Deref for Kept<R> {
    type Target = R;

    fn deref(&self) -> &R {
        &self.record
    }
}

impl<R: std::fmt::Debug> std::fmt::Debug for Kept<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.record.fmt(f)
    }
}

/// One shard: a record's key to its entry.
type Shard<R> = Mutex<HashMap<Box<[u8]>, Arc<Kept<R>>>>;

/// The bounded map of decoded records, by key.
pub struct KeptMap<R> {
    shards: Vec<Shard<R>>,
    per_shard: usize,
    largest: usize,
}

impl<R: Record> Default for KeptMap<R> {
    fn default() -> Self {
        KeptMap::with_capacity(CAPACITY)
    }
}

fn shard_of(id: &[u8]) -> usize {
    // FNV-1a: keys are short and end in random ids, any spread will do.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % SHARDS as u64) as usize
}

impl<R: Record> KeptMap<R> {
    /// A map keeping at most about `capacity` entries.
    pub fn with_capacity(capacity: usize) -> KeptMap<R> {
        KeptMap::with_limits(capacity, usize::MAX)
    }

    /// A map keeping at most about `capacity` entries, and none of a record stored in more
    /// than `largest` bytes (it is decoded for each read): the bound on its memory for a kind
    /// of record that can grow (a cluster lists its members).
    pub fn with_limits(capacity: usize, largest: usize) -> KeptMap<R> {
        KeptMap {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            largest,
        }
    }

    /// The record stored as `bytes` under `id`: the kept entry when it was decoded from these
    /// very bytes, else decoded now (and kept).
    pub fn decode(&self, id: &[u8], bytes: &[u8]) -> Result<Arc<Kept<R>>, StoreError> {
        self.decode_seen(id, bytes, None)
    }

    /// [`KeptMap::decode`] of bytes read at write generation `seen` (read between two equal
    /// [`Store::generation`]s), which the entry then records.
    fn decode_seen(
        &self,
        id: &[u8],
        bytes: &[u8],
        seen: Option<u64>,
    ) -> Result<Arc<Kept<R>>, StoreError> {
        let shard = &self.shards[shard_of(id)];
        if let Some(d) = lock(shard).get(id) {
            if *d.bytes == *bytes {
                if let Some(g) = seen {
                    d.seen_at.store(g, Ordering::Release);
                }
                return Ok(d.clone());
            }
        }
        if bytes.len() > self.largest {
            let d = Arc::new(Kept::fresh(decode::<R>(bytes)?));
            lock(shard).remove(id);
            return Ok(d);
        }
        let d = Arc::new(Kept {
            bytes: bytes.into(),
            record: decode::<R>(bytes)?,
            wire: OnceLock::new(),
            derived: OnceLock::new(),
            seen_at: AtomicU64::new(seen.unwrap_or(UNSEEN)),
        });
        let mut map = lock(shard);
        if map.len() >= self.per_shard && !map.contains_key(id) {
            if let Some(old) = map.keys().next().cloned() {
                map.remove(&old);
            }
        }
        map.insert(id.into(), d.clone());
        Ok(d)
    }

    /// The records stored in `tree` under `keys`, in order, those that exist. An entry whose
    /// bytes were the stored ones at the store's current write generation is the record with
    /// no read (only where the generation is known: a data dir, this process its only writer,
    /// no write in flight); the others are read in one `get_many` and decoded through the map.
    /// A filter matching a thousand records then costs a thousand lookups here, not a
    /// thousand reads and byte comparisons.
    pub fn read_many(
        &self,
        store: &Store,
        tree: Tree,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Arc<Kept<R>>>, StoreError> {
        let at = store.generation();
        let mut found: Vec<Option<Arc<Kept<R>>>> = match at {
            Some(g) => keys.iter().map(|k| self.seen_at(k, g)).collect(),
            None => vec![None; keys.len()],
        };
        // Nothing current (a database, a write in flight, a first read): read `keys` as given.
        let missing: Cow<'_, [Vec<u8>]> = if found.iter().all(Option::is_none) {
            Cow::Borrowed(keys)
        } else {
            keys.iter()
                .zip(&found)
                .filter(|(_, f)| f.is_none())
                .map(|(k, _)| k.clone())
                .collect()
        };
        if !missing.is_empty() {
            let read = store.get_many(tree, &missing)?;
            // The bytes are the state at `at` only if no write began while they were read.
            let seen = at.filter(|g| store.generation() == Some(*g));
            let mut read = missing.iter().zip(read);
            for slot in found.iter_mut().filter(|f| f.is_none()) {
                if let Some((key, Some(bytes))) = read.next() {
                    *slot = Some(self.decode_seen(key, &bytes, seen)?);
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// The entry of `id` when its bytes were the stored ones at write generation `g`.
    fn seen_at(&self, id: &[u8], g: u64) -> Option<Arc<Kept<R>>> {
        lock(&self.shards[shard_of(id)])
            .get(id)
            .filter(|d| d.seen_at.load(Ordering::Acquire) == g)
            .cloned()
    }

    /// Number of entries kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether nothing is kept.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Values computed from the store, by key, each kept while the store's write generation is
/// the one it was computed at: any write of this process (to any tree) retires every entry,
/// and where the generation is unknown (a write in flight, a database) nothing is kept. What
/// a value must not hold is anything that changes without a write: the time (an image's
/// state and progress are worked out from its record per request), the caller beyond the
/// key, the configuration.
pub struct KeptAnswers<K, V> {
    map: Mutex<HashMap<K, (u64, Arc<V>)>>,
    capacity: usize,
}

impl<K: Hash + Eq, V> KeptAnswers<K, V> {
    /// A map keeping at most `capacity` values (a full map drops the retired ones, then all).
    pub fn with_capacity(capacity: usize) -> KeptAnswers<K, V> {
        KeptAnswers {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The value of `key`: the kept one when the store has not been written since it was
    /// computed, else `compute`'s (kept when no write overlapped it).
    pub fn get_or_compute<E>(
        &self,
        store: &Store,
        key: K,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let Some(generation) = store.generation() else {
            return compute().map(Arc::new);
        };
        if let Some((at, v)) = lock(&self.map).get(&key) {
            if *at == generation {
                return Ok(v.clone());
            }
        }
        let v = Arc::new(compute()?);
        // Kept only if no write began while it was computed (nor was in flight when it began).
        if store.generation() == Some(generation) {
            let mut map = lock(&self.map);
            if map.len() >= self.capacity && !map.contains_key(&key) {
                map.retain(|_, (at, _)| *at == generation);
                if map.len() >= self.capacity {
                    map.clear();
                }
            }
            map.insert(key, (generation, v.clone()));
        }
        Ok(v)
    }

    /// Number of values kept (retired ones included until a full map drops them).
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        lock(&self.map).len()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cvm::model::{Image, ImageSource, ImageState};
    use crate::store::encode;

    fn image(id: &str, name: &str) -> Image {
        Image {
            id: id.into(),
            owner: "1".into(),
            region: "ap-guangzhou".into(),
            name: name.into(),
            description: String::new(),
            family: String::new(),
            deprecated: false,
            os_name: "os".into(),
            platform: "p".into(),
            architecture: "x86_64".into(),
            size_gb: 50,
            source: ImageSource::CreateImage,
            state: ImageState::Normal,
            pending: None,
            created_ms: 1,
            updated_ms: 1,
            instance_id: None,
            snapshots: vec![],
            tags: vec![],
            license_type: "TencentCloud".into(),
            cloudinit: true,
            boot_mode: "Legacy BIOS".into(),
            shared_with: vec![],
            sync_source: None,
        }
    }

    #[test]
    fn an_entry_is_used_only_for_the_bytes_it_was_decoded_from() {
        let cache = KeptMap::<Image>::default();
        let a = encode(&image("img-aaaaaaaa", "one")).expect("encode");
        let first = cache.decode(b"img-aaaaaaaa", &a).expect("decode");
        assert_eq!(
            first.wire(|i| i.name.clone()).map(String::as_str),
            Some("one")
        );
        let again = cache.decode(b"img-aaaaaaaa", &a).expect("decode");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same bytes reuse the entry"
        );
        let b = encode(&image("img-aaaaaaaa", "two")).expect("encode");
        let changed = cache.decode(b"img-aaaaaaaa", &b).expect("decode");
        assert_eq!(changed.record.name, "two");
        assert_eq!(
            changed.wire(|i| i.name.clone()).map(String::as_str),
            Some("two")
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_map_stays_within_its_bound() {
        let cache = KeptMap::<Image>::with_capacity(32);
        for n in 0..1000 {
            let id = format!("img-{n:08}");
            let bytes = encode(&image(&id, "n")).expect("encode");
            cache.decode(id.as_bytes(), &bytes).expect("decode");
        }
        assert!(cache.len() <= 32, "{} entries", cache.len());
        assert!(!cache.is_empty());
    }

    #[test]
    fn a_record_larger_than_the_limit_is_decoded_but_not_kept() {
        let cache = KeptMap::<Image>::with_limits(32, 400);
        let small = encode(&image("img-aaaaaaaa", "small")).expect("encode");
        assert!(small.len() <= 400, "{} bytes", small.len());
        cache.decode(b"img-aaaaaaaa", &small).expect("decode");
        assert_eq!(cache.len(), 1);
        let large = encode(&image("img-aaaaaaaa", &"n".repeat(500))).expect("encode");
        let read = cache.decode(b"img-aaaaaaaa", &large).expect("decode");
        assert_eq!(read.record.name.len(), 500);
        assert!(
            cache.is_empty(),
            "the large record is not kept, nor the stale small one"
        );
    }

    fn write(store: &Store, key: &[u8]) {
        store
            .transact(|tx| {
                tx.insert(crate::store::Tree::Images, key, b"v")
                    .map_err(crate::store::TxError::<()>::from)
            })
            .expect("write");
    }

    #[test]
    fn an_answer_is_kept_until_the_store_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), crate::store::Durability::Sync).expect("open");
        let answers = KeptAnswers::<&str, u32>::with_capacity(8);
        let computed = std::cell::Cell::new(0);
        let ask = || {
            answers
                .get_or_compute(&store, "page", || {
                    computed.set(computed.get() + 1);
                    Ok::<_, ()>(computed.get())
                })
                .expect("answer")
        };
        assert_eq!(*ask(), 1);
        assert_eq!(*ask(), 1, "no write: the kept answer");
        write(&store, b"a");
        assert_eq!(*ask(), 2, "a write retires it");
        assert_eq!(*ask(), 2);
        // A write while the answer is computed: the answer is given but not kept.
        let during = answers
            .get_or_compute(&store, "other", || {
                write(&store, b"b");
                Ok::<_, ()>(7)
            })
            .expect("answer");
        assert_eq!(*during, 7);
        assert_eq!(
            *answers
                .get_or_compute(&store, "other", || Ok::<_, ()>(8))
                .expect("answer"),
            8
        );
        // An error is not kept.
        write(&store, b"c");
        assert!(answers
            .get_or_compute(&store, "page", || Err::<u32, _>("no"))
            .is_err());
        assert_eq!(*ask(), 3);
    }

    #[test]
    fn a_full_map_of_answers_drops_the_retired_ones_then_all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), crate::store::Durability::Sync).expect("open");
        let answers = KeptAnswers::<u32, u32>::with_capacity(4);
        for k in 0..4 {
            answers
                .get_or_compute(&store, k, || Ok::<_, ()>(k))
                .expect("answer");
        }
        assert_eq!(answers.kept(), 4);
        write(&store, b"a");
        answers
            .get_or_compute(&store, 9, || Ok::<_, ()>(9))
            .expect("answer");
        assert_eq!(answers.kept(), 1, "the four retired ones are dropped");
        for k in 10..20 {
            answers
                .get_or_compute(&store, k, || Ok::<_, ()>(k))
                .expect("answer");
            assert!(answers.kept() <= 4, "{} kept", answers.kept());
        }
    }

    fn put_image(store: &Store, key: &[u8], name: &str) {
        let bytes = encode(&image("img-aaaaaaaa", name)).expect("encode");
        store
            .transact(|tx| {
                tx.insert(Tree::Images, key, &bytes)
                    .map_err(crate::store::TxError::<()>::from)
            })
            .expect("write");
    }

    #[test]
    fn records_read_many_are_current_after_every_write_and_need_no_read_before_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Interval mode applies a write before it returns, so the generation is known right
        // after each one (in sync mode a write is in flight until its flush applies it).
        let store =
            Store::open(dir.path(), crate::store::Durability::Interval { ms: 1000 }).expect("open");
        let cache = KeptMap::<Image>::default();
        let keys = vec![b"k1".to_vec(), b"absent".to_vec(), b"k2".to_vec()];
        put_image(&store, b"k1", "one");
        put_image(&store, b"k2", "other");
        let names = |read: &[Arc<Kept<Image>>]| -> Vec<String> {
            read.iter().map(|r| r.name.clone()).collect()
        };
        let first = cache.read_many(&store, Tree::Images, &keys).expect("read");
        assert_eq!(
            names(&first),
            ["one", "other"],
            "in order, the absent left out"
        );
        let g = store
            .generation()
            .expect("a data dir with no write in flight");
        assert_eq!(first[0].seen_at.load(Ordering::Acquire), g);
        assert!(cache.seen_at(b"k1", g).is_some(), "current without a read");
        let again = cache.read_many(&store, Tree::Images, &keys).expect("read");
        assert!(Arc::ptr_eq(&first[0], &again[0]));
        put_image(&store, b"k1", "two");
        assert_ne!(store.generation(), Some(g), "a write moves the generation");
        let after = cache.read_many(&store, Tree::Images, &keys).expect("read");
        assert_eq!(
            names(&after),
            ["two", "other"],
            "a write is never answered stale"
        );
        store
            .transact(|tx| {
                tx.remove(Tree::Images, b"k1")
                    .map_err(crate::store::TxError::<()>::from)
            })
            .expect("remove");
        let removed = cache.read_many(&store, Tree::Images, &keys).expect("read");
        assert_eq!(names(&removed), ["other"], "a removed record is gone");
    }

    #[test]
    fn bytes_that_are_no_record_are_refused_and_not_kept() {
        let cache = KeptMap::<Image>::default();
        assert!(cache.decode(b"img-aaaaaaaa", &[1, 2, 3]).is_err());
        assert!(cache.is_empty());
    }
}
