//! The configured accounts, indexed by each cloud's key id.

use std::collections::HashMap;
use std::sync::Arc;

pub use crate::config::Account;

/// Lookup of accounts by credential.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    by_tencent: HashMap<String, Arc<Account>>,
    by_aliyun: HashMap<String, Arc<Account>>,
    all: Vec<Arc<Account>>,
}

impl Accounts {
    /// Indexes the configured accounts.
    pub fn new(list: &[Account]) -> Accounts {
        let mut out = Accounts::default();
        for a in list {
            let a = Arc::new(a.clone());
            if let Some(t) = &a.tencent {
                out.by_tencent.insert(t.secret_id.clone(), a.clone());
            }
            if let Some(k) = &a.aliyun {
                out.by_aliyun.insert(k.access_key_id.clone(), a.clone());
            }
            out.all.push(a);
        }
        out
    }

    /// The account owning a Tencent SecretId.
    pub fn by_tencent_secret_id(&self, id: &str) -> Option<Arc<Account>> {
        self.by_tencent.get(id).cloned()
    }

    /// The account owning an Alibaba Cloud AccessKey id.
    pub fn by_aliyun_key_id(&self, id: &str) -> Option<Arc<Account>> {
        self.by_aliyun.get(id).cloned()
    }

    /// The account with this id.
    pub fn by_id(&self, id: &str) -> Option<Arc<Account>> {
        self.all.iter().find(|a| a.id == id).cloned()
    }
}
