//! The recovery snapshot written at a clean shutdown, so that the next start is quick.

use std::path::Path;

use super::open::lock_data_dir;
use super::sled_engine;
use super::{Store, StoreError};

impl Store {
    /// Opens and closes the engine's files of a store that is no longer open, so that the next
    /// start is quick. sled 0.34 writes the snapshot of its page table only while opening (it
    /// replays the log written since the last snapshot, then saves the result), so a store that
    /// took a million writes in one run would replay them all at the next start. Doing it at a
    /// clean shutdown moves that work out of the start. Fails with [`StoreError::InUse`],
    /// changing nothing, while the store is still open.
    pub fn write_recovery_snapshot(dir: &Path) -> Result<(), StoreError> {
        let _lock = lock_data_dir(dir)?;
        sled_engine::write_recovery_snapshot(dir)
    }
}
