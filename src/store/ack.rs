//! The acknowledged-sequence record: how far sled's log must reach, kept where sled cannot lose
//! it along with its log.
//!
//! sled 0.34 reads its log up to the first entry that does not check out and treats that as the
//! end: one damaged byte silently drops every later write, acknowledged or not. So every flush
//! that acknowledges writes ([`Recorder::flush`]) advances a sequence and stores it twice:
//!
//! 1. in the `meta` tree (`ack_seq`), inserted just before sled's flush, so it lands in the log
//!    after every write that flush acknowledges;
//! 2. in the side file `ACKED` in the data dir (outside sled's folder), written and fsynced
//!    after sled's flush returned and before any writer of that flush is answered.
//!
//! At open the store's sequence must be at least the side file's. Lower means sled's log ends
//! before writes that were acknowledged, and the store refuses to open. Higher or equal is
//! fine: a crash between sled's flush and the side-file write leaves the store one ahead.
//!
//! # Format of `ACKED`
//!
//! 32 bytes: two slots of `[sequence u64 BE][check u64 BE]`. Sequence `n` is written into slot
//! `n % 2` in place and fsynced (`fdatasync`: the size never changes, so no metadata or
//! directory sync is needed); a reader takes the highest slot whose check matches. A write torn
//! by a crash spoils at most its own slot, and the other one holds the previous sequence, which
//! is still true. The file is created once, through a temporary file, fsync, rename and an
//! fsync of the directory, so it is never seen half-made.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::engine::Engine;
use super::pending::Pending;
use super::{StoreError, Tree};

/// Key in the `meta` tree of the sequence of the last recorded flush (u64, big-endian).
pub(crate) const ACK_KEY: &[u8] = b"ack_seq";
/// Name of the side file in the data dir.
pub(crate) const SIDE_FILE: &str = "ACKED";
/// Bytes per slot of the side file.
const SLOT: usize = 16;
/// Mixed into every slot's check, so that zeros or another file's bytes never pass.
const SALT: &[u8] = b"cloudtwin acknowledged sequence v1";

/// The check of a slot: FNV-1a over the salt and the sequence.
fn check_of(seq: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in SALT.iter().chain(seq.to_be_bytes().iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn slot_bytes(seq: u64) -> [u8; SLOT] {
    let mut out = [0u8; SLOT];
    out[..8].copy_from_slice(&seq.to_be_bytes());
    out[8..].copy_from_slice(&check_of(seq).to_be_bytes());
    out
}

/// The sequence in the side file's bytes: the highest valid slot, `None` if neither is.
fn parse(bytes: &[u8]) -> Option<u64> {
    bytes
        .chunks_exact(SLOT)
        .take(2)
        .filter_map(|s| {
            let seq = u64::from_be_bytes(s[..8].try_into().ok()?);
            let check = u64::from_be_bytes(s[8..].try_into().ok()?);
            (check == check_of(seq)).then_some(seq)
        })
        .max()
}

/// The side file of a data dir.
pub(crate) fn side_path(dir: &Path) -> PathBuf {
    dir.join(SIDE_FILE)
}

/// Reads the side file: `Ok(None)` when there is none (a new data dir, or one written by a
/// release that kept no record).
pub(crate) fn read_side(dir: &Path) -> Result<Option<u64>, StoreError> {
    let path = side_path(dir);
    let mut bytes = Vec::new();
    match File::open(&path) {
        Ok(mut f) => f
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::Io(format!("cannot read {}: {e}", path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::Io(format!(
                "cannot open {}: {e}",
                path.display()
            )))
        }
    };
    parse(&bytes).map(Some).ok_or_else(|| StoreError::Damaged {
        path: dir.to_path_buf(),
        detail: format!(
            "{} holds no valid acknowledged sequence ({} bytes)",
            path.display(),
            bytes.len()
        ),
    })
}

/// Creates the side file holding `seq` atomically (temporary file, fsync, rename, fsync of the
/// directory) and returns it open for in-place writes.
pub(crate) fn create_side(dir: &Path, seq: u64) -> Result<File, StoreError> {
    let path = side_path(dir);
    let tmp = dir.join(format!("{SIDE_FILE}.tmp"));
    let io = |what: &str, p: &Path, e: std::io::Error| {
        StoreError::Io(format!("cannot {what} {}: {e}", p.display()))
    };
    {
        let mut f = File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
        let slot = slot_bytes(seq);
        f.write_all(&[slot, slot].concat())
            .map_err(|e| io("write", &tmp, e))?;
        f.sync_all().map_err(|e| io("fsync", &tmp, e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| io("rename into", &path, e))?;
    sync_dir(dir)?;
    open_side(dir)
}

/// Opens an existing side file for in-place writes.
pub(crate) fn open_side(dir: &Path) -> Result<File, StoreError> {
    let path = side_path(dir);
    File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Io(format!("cannot open {}: {e}", path.display())))
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::Io(format!("cannot fsync {}: {e}", dir.display())))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `seq` into its slot of an open side file and waits until it is on disk.
fn write_slot(file: &mut File, seq: u64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start((seq % 2) * SLOT as u64))?;
    file.write_all(&slot_bytes(seq))?;
    file.sync_data()
}

/// Reads the store's sequence from `meta` (`None`: none recorded yet).
pub(crate) fn read_store_seq(engine: &dyn Engine) -> Result<Option<u64>, StoreError> {
    match engine.get(Tree::Meta, ACK_KEY)? {
        None => Ok(None),
        Some(v) => {
            let bytes: [u8; 8] = v.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                kind: "meta.ack_seq",
                detail: format!("{} bytes, expected 8", v.len()),
            })?;
            Ok(Some(u64::from_be_bytes(bytes)))
        }
    }
}

/// What the two copies of the sequence say about a data dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AckStatus {
    /// The sequence in sled's `meta` tree (`None`: none recorded).
    pub store: Option<u64>,
    /// The sequence in the side file (`None`: no side file).
    pub acknowledged: Option<u64>,
}

impl AckStatus {
    /// True when sled's log ends before a flush that was acknowledged.
    pub fn lost_acknowledged_writes(&self) -> bool {
        matches!(self.acknowledged, Some(a) if self.store.unwrap_or(0) < a)
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let store = self
            .store
            .map_or_else(|| "none".to_string(), |s| s.to_string());
        match self.acknowledged {
            None => format!("store sequence {store}, no {SIDE_FILE} file (not recorded yet)"),
            Some(a) if self.lost_acknowledged_writes() => format!(
                "store sequence {store} is older than the acknowledged sequence {a}: \
                 acknowledged writes are missing"
            ),
            Some(a) => format!("store sequence {store}, acknowledged sequence {a}: ok"),
        }
    }
}

/// Runs the flushes that acknowledge writes, one at a time, and records each one.
pub(crate) struct Recorder {
    engine: Arc<dyn Engine>,
    /// The committed writes that each flush first applies (`sync` mode on a data dir).
    pending: Option<Arc<Pending>>,
    /// The last recorded sequence and the open side file (`None`: opened for inspection only).
    state: Mutex<(u64, Option<File>)>,
    /// A transaction committed since the last recorded flush began.
    dirty: AtomicBool,
}

impl Recorder {
    /// A recorder that continues from `seq`, writing into `side`.
    pub(crate) fn new(
        engine: Arc<dyn Engine>,
        pending: Option<Arc<Pending>>,
        seq: u64,
        side: Option<File>,
    ) -> Recorder {
        Recorder {
            engine,
            pending,
            state: Mutex::new((seq, side)),
            dirty: AtomicBool::new(false),
        }
    }

    /// Applies the committed writes waiting for it, flushes the engine, then records that
    /// everything written before the call is on disk. Returns the sequence recorded.
    pub(crate) fn flush(&self) -> Result<u64, StoreError> {
        if let Some(p) = &self.pending {
            p.apply()?;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (last, file) = &mut *state;
        if self.engine.durable_commits() {
            // A database: every commit was durable when it returned; nothing to record.
            return Ok(*last);
        }
        let Some(file) = file.as_mut() else {
            return Err(StoreError::Backend(
                "the store was opened for inspection and does not write".into(),
            ));
        };
        self.dirty.store(false, Ordering::SeqCst);
        let seq = *last + 1;
        self.engine
            .put(Tree::Meta, ACK_KEY, Some(&seq.to_be_bytes()))?;
        self.engine.flush()?;
        write_slot(file, seq)
            .map_err(|e| StoreError::Io(format!("cannot record the flush in {SIDE_FILE}: {e}")))?;
        *last = seq;
        Ok(seq)
    }

    /// Notes that a transaction committed (called after each commit).
    pub(crate) fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// [`Recorder::flush`] if a transaction committed since the last one began (`interval`
    /// mode's periodic flush: an idle store writes nothing).
    pub(crate) fn flush_if_dirty(&self) -> Result<Option<u64>, StoreError> {
        if self.dirty.load(Ordering::SeqCst) {
            self.flush().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The last recorded sequence.
    pub(crate) fn last(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_valid_slot_wins_and_a_torn_slot_is_ignored() {
        let good = [slot_bytes(7), slot_bytes(8)].concat();
        assert_eq!(parse(&good), Some(8));
        let mut torn = good.clone();
        torn[SLOT + 3] ^= 0xff;
        assert_eq!(
            parse(&torn),
            Some(7),
            "the other slot still holds a true sequence"
        );
        assert_eq!(parse(&[0u8; 2 * SLOT]), None);
        assert_eq!(parse(&[]), None);
    }

    #[test]
    fn a_side_file_round_trips_through_in_place_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read_side(dir.path()).expect("read"), None);
        let mut f = create_side(dir.path(), 41).expect("create");
        assert_eq!(read_side(dir.path()).expect("read"), Some(41));
        for seq in 42..46 {
            write_slot(&mut f, seq).expect("write");
            assert_eq!(read_side(dir.path()).expect("read"), Some(seq));
        }
        std::fs::write(side_path(dir.path()), b"garbage").expect("spoil");
        let err = read_side(dir.path()).expect_err("spoiled");
        assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
    }

    #[test]
    fn a_store_behind_the_side_file_has_lost_acknowledged_writes() {
        let s = |store, acknowledged| AckStatus {
            store,
            acknowledged,
        };
        assert!(s(Some(4), Some(5)).lost_acknowledged_writes());
        assert!(s(None, Some(1)).lost_acknowledged_writes());
        assert!(!s(Some(5), Some(5)).lost_acknowledged_writes());
        assert!(
            !s(Some(6), Some(5)).lost_acknowledged_writes(),
            "crash before the side file"
        );
        assert!(
            !s(Some(6), None).lost_acknowledged_writes(),
            "older release"
        );
        assert!(!s(None, Some(0)).lost_acknowledged_writes());
    }
}
