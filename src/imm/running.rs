//! The tasks this process is running, by task key, so that none runs twice (a resumed task and
//! a state-control finish, or a task resumed while it still runs). A leaf: it knows nothing of
//! the service or the records.

use std::collections::HashSet;
use std::sync::Mutex;

/// Tasks being run by this process.
#[derive(Default)]
pub struct Runner {
    running: Mutex<HashSet<Vec<u8>>>,
}

impl Runner {
    /// Marks the task as running here; `false` when it already is.
    pub fn claim(&self, key: &[u8]) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_vec())
    }

    /// Whether the task is running here.
    pub fn is_running(&self, key: &[u8]) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(key)
    }

    /// The task is no longer running here.
    pub fn release(&self, key: &[u8]) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_claimed_once_until_it_is_released() {
        let r = Runner::default();
        assert!(r.claim(b"k"));
        assert!(!r.claim(b"k"));
        r.release(b"k");
        assert!(r.claim(b"k"));
    }
}
