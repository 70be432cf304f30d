//! The access service: sub-users, access keys, custom policies, roles and attachments, each
//! write one store transaction followed by durability; and the request path's lookups (an
//! access key with its user and parsed policies, a role's parsed policies), cached in memory
//! and invalidated by a generation counter that every write of this process bumps
//! ([`Access::invalidate`] for writes made around the service: imports and resets). Over a
//! store shared by several nodes, every write also bumps a generation in the store (`meta`
//! key [`keys::GENERATION_KEY`], in the write's own transaction), and a lookup reads it first:
//! a change made through any node is seen by every node's next request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::de::DeserializeOwned;

use crate::clock::now_ms;
use crate::store::{decode, encode, Record, Store, StoreError, Tree, Tx, TxError, TxFailure};

use super::error::{AccessError, Entity};
use super::keys;
use super::model::{
    AccessKey, Attachment, Cloud, KeyStatus, ManagedPolicy, PolicyKind, PolicyRef, PolicyVersion,
    Role, Target, User,
};
use super::policy::{self, Grammar, Policy};
use super::system;

/// Limits of the access APIs (`[access]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Access keys per user (RAM: 2; CAM: 2).
    pub keys_per_user: usize,
    /// Versions per custom policy (RAM: 5).
    pub versions_per_policy: usize,
    /// Policies attached to one principal.
    pub policies_per_principal: usize,
    /// Longest policy document, characters (RAM 6144; CAM 4096 without whitespace is the
    /// grammar's own check).
    pub max_document_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            keys_per_user: 2,
            versions_per_policy: 5,
            policies_per_principal: 25,
            max_document_chars: 6144,
        }
    }
}

/// A policy ready to evaluate.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    /// Name.
    pub name: String,
    /// System or custom.
    pub kind: PolicyKind,
    /// Parsed document.
    pub policy: Arc<Policy>,
}

/// The evaluator's view of parsed policies.
pub fn named(list: &[NamedPolicy]) -> Vec<super::eval::Named<'_>> {
    list.iter()
        .map(|p| super::eval::Named {
            name: &p.name,
            kind: p.kind.as_str(),
            policy: &p.policy,
        })
        .collect()
}

/// A sub-user's access key as the request path needs it.
#[derive(Debug)]
pub struct KeyGrant {
    /// The key.
    pub key: AccessKey,
    /// Its user.
    pub user: User,
    /// The user's policies, parsed.
    pub policies: Vec<NamedPolicy>,
    /// Per action, the statements whose actions cover it (`eval::candidates`).
    pub memo: Candidates,
}

/// Per action, the (policy, statement) positions whose `Action` covers it: computed once per
/// cached grant and action, so a request evaluates only the statements about its action.
#[derive(Debug, Default)]
pub struct Candidates(RwLock<HashMap<String, Positions>>);

/// (policy, statement) positions.
pub type Positions = Arc<Vec<(usize, usize)>>;

impl Candidates {
    /// The statements of `policies` about `action`.
    pub fn of(&self, policies: &[NamedPolicy], action: &str) -> Positions {
        if let Some(c) = self.0.read().ok().and_then(|m| m.get(action).cloned()) {
            return c;
        }
        let c = Arc::new(super::eval::candidates(&named(policies), action));
        if let Ok(mut m) = self.0.write() {
            // One entry per action of the products: bounded by the action lists.
            if m.len() < 1024 {
                m.insert(action.to_string(), c.clone());
            }
        }
        c
    }
}

/// A role's policies as the request path needs them.
#[derive(Debug)]
pub struct RoleGrant {
    /// The role.
    pub role: Role,
    /// Its policies, parsed.
    pub policies: Vec<NamedPolicy>,
    /// Per action, the statements whose actions cover it.
    pub memo: Candidates,
}

/// A policy as the read APIs show it (system or custom).
#[derive(Debug, Clone)]
pub struct PolicyView {
    /// System or custom.
    pub kind: PolicyKind,
    /// Name.
    pub name: String,
    /// Tencent `PolicyId`.
    pub id: u64,
    /// Description.
    pub description: String,
    /// The document in force.
    pub document: String,
    /// The version in force.
    pub default_version: u32,
    /// Attachments.
    pub attached: u32,
    /// Created (epoch ms; 0 for system policies).
    pub created_ms: u64,
    /// Updated (epoch ms).
    pub updated_ms: u64,
}

impl From<&ManagedPolicy> for PolicyView {
    fn from(p: &ManagedPolicy) -> Self {
        PolicyView {
            kind: PolicyKind::Custom,
            name: p.name.clone(),
            id: p.id,
            description: p.description.clone(),
            document: p.document().to_string(),
            default_version: p.default_version,
            attached: p.attached,
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
        }
    }
}

impl From<&system::SystemPolicy> for PolicyView {
    fn from(p: &system::SystemPolicy) -> Self {
        PolicyView {
            kind: PolicyKind::System,
            name: p.name.to_string(),
            id: p.id,
            description: p.description.to_string(),
            document: p.document.to_string(),
            default_version: 1,
            attached: 0,
            created_ms: 0,
            updated_ms: 0,
        }
    }
}

/// A new sub-user's fields.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Name.
    pub name: String,
    /// Display name / remark.
    pub display_name: String,
    /// Comments.
    pub comments: String,
    /// E-mail.
    pub email: String,
    /// Mobile phone.
    pub phone: String,
    /// Tencent `ConsoleLogin`.
    pub console_login: bool,
}

/// A new role's fields.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    /// Name.
    pub name: String,
    /// Trust policy.
    pub trust: String,
    /// Description.
    pub description: String,
    /// Longest session (seconds); `None`: 3600 (Alibaba) / 43200 (Tencent).
    pub max_session_secs: Option<u64>,
    /// Tencent `ConsoleLogin`.
    pub console_login: bool,
}

/// Changes to a sub-user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New display name (Alibaba) or remark (Tencent).
    pub display_name: Option<String>,
    /// New comments (Alibaba) / remark (Tencent).
    pub comments: Option<String>,
    /// New e-mail.
    pub email: Option<String>,
    /// New mobile phone.
    pub phone: Option<String>,
    /// New Tencent `ConsoleLogin`.
    pub console_login: Option<bool>,
}

/// Changes to a role; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    /// New trust policy.
    pub trust: Option<String>,
    /// New longest session.
    pub max_session_secs: Option<u64>,
    /// New description.
    pub description: Option<String>,
}

/// The grammar of a cloud's policies.
pub fn grammar(cloud: Cloud) -> Grammar {
    match cloud {
        Cloud::Aliyun => Grammar::Ram,
        Cloud::Tencent => Grammar::Cam,
    }
}

type Cached<T> = RwLock<HashMap<String, (u64, Arc<T>)>>;

/// Entries a cache holds before it starts over.
const CACHE_CAP: usize = 10_000;

/// The access service.
pub struct Access {
    store: Store,
    limits: Limits,
    mode: super::authorize::Mode,
    generation: AtomicU64,
    /// The store is shared with other nodes: the stored generation counts too.
    shared: bool,
    keys: Cached<KeyGrant>,
    roles: Cached<RoleGrant>,
    parsed: RwLock<HashMap<(Cloud, String), Arc<Policy>>>,
    secret: Vec<u8>,
    secret_durable: AtomicBool,
}

fn finish<T>(r: Result<T, TxFailure<AccessError>>) -> Result<T, AccessError> {
    r.map_err(|f| match f {
        TxFailure::Abort(e) => e,
        TxFailure::Store(e) => e.into(),
    })
}

fn abort<T>(e: AccessError) -> Result<T, TxError<AccessError>> {
    Err(TxError::Abort(e))
}

fn store_err(e: StoreError) -> TxError<AccessError> {
    TxError::Abort(e.into())
}

fn tx_get<R: Record>(tx: &Tx<'_>, key: &[u8]) -> Result<Option<R>, TxError<AccessError>> {
    match tx.get(Tree::Access, key)? {
        None => Ok(None),
        Some(b) => decode::<R>(&b).map(Some).map_err(store_err),
    }
}

fn tx_put<R: Record>(tx: &Tx<'_>, key: &[u8], r: &R) -> Result<(), TxError<AccessError>> {
    let bytes = encode(r).map_err(store_err)?;
    tx.insert(Tree::Access, key, &bytes)?;
    Ok(())
}

fn tx_next_seq(tx: &Tx<'_>) -> Result<u64, TxError<AccessError>> {
    let last = tx
        .get(Tree::Meta, keys::SEQ_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    let next = last + 1;
    tx.insert(Tree::Meta, keys::SEQ_KEY, &next.to_be_bytes())?;
    Ok(next)
}

/// Advances the stored generation (see the module's documentation).
fn bump_generation(tx: &Tx<'_>) -> Result<(), crate::store::Conflict> {
    let last = tx
        .get(Tree::Meta, keys::GENERATION_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    tx.insert(Tree::Meta, keys::GENERATION_KEY, &(last + 1).to_be_bytes())
}

fn target_key(cloud: Cloud, account: &str, target: Target<'_>) -> Vec<u8> {
    match target {
        Target::User(n) => keys::user(cloud, account, n),
        Target::Role(n) => keys::role(cloud, account, n),
    }
}

impl Access {
    /// The service over `store`; reads (or makes, in memory until the first token is issued)
    /// the key that signs STS tokens.
    pub fn open(
        store: Store,
        limits: Limits,
        mode: super::authorize::Mode,
    ) -> Result<Access, StoreError> {
        let (secret, durable) = match store.get(Tree::Meta, keys::SECRET_KEY)? {
            Some(s) if s.len() >= 32 => (s, true),
            _ => {
                let mut s = Vec::with_capacity(32);
                s.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                s.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                let kept = s.clone();
                store
                    .transact(|tx| {
                        tx.insert(Tree::Meta, keys::SECRET_KEY, &kept)?;
                        Ok::<_, TxError<()>>(())
                    })
                    .map_err(|f| match f {
                        TxFailure::Store(e) => e,
                        TxFailure::Abort(()) => {
                            StoreError::Backend("the token key could not be stored".into())
                        }
                    })?;
                (s, false)
            }
        };
        Ok(Access {
            shared: store.shared().is_some(),
            store,
            limits,
            mode,
            generation: AtomicU64::new(1),
            keys: RwLock::new(HashMap::new()),
            roles: RwLock::new(HashMap::new()),
            parsed: RwLock::new(HashMap::new()),
            secret,
            secret_durable: AtomicBool::new(durable),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The policy stage's mode.
    pub fn mode(&self) -> super::authorize::Mode {
        self.mode
    }

    /// Forgets every cached lookup (after writes made around the service: imports, resets).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if self.shared {
            if let Err(e) = self
                .store
                .transact(|tx| bump_generation(tx).map_err(TxError::<()>::from))
            {
                tracing::warn!(error = ?e, "the shared access generation was not bumped");
            }
        }
    }

    /// The tag of cached lookups: this process's generation, and the store's when shared.
    fn cache_tag(&self) -> Result<u64, AccessError> {
        let local = self.generation.load(Ordering::Acquire);
        if !self.shared {
            return Ok(local);
        }
        let stored = self
            .store
            .get(Tree::Meta, keys::GENERATION_KEY)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        Ok(local ^ stored.rotate_left(32))
    }

    /// The key that signs STS tokens; durable once this returns.
    pub async fn token_secret(&self) -> Result<&[u8], AccessError> {
        if !self.secret_durable.load(Ordering::Acquire) {
            self.store.durable().await?;
            self.secret_durable.store(true, Ordering::Release);
        }
        Ok(&self.secret)
    }

    /// The token key for checking tokens (any token was issued after it became durable).
    pub fn token_secret_now(&self) -> &[u8] {
        &self.secret
    }

    async fn write<T>(
        &self,
        body: impl Fn(&Tx<'_>) -> Result<T, TxError<AccessError>>,
    ) -> Result<T, AccessError> {
        let shared = self.shared;
        let out = finish(self.store.transact(|tx| {
            let out = body(tx)?;
            if shared {
                bump_generation(tx)?;
            }
            Ok(out)
        }))?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.store.durable().await?;
        Ok(out)
    }

    fn read<R: Record + DeserializeOwned>(&self, key: &[u8]) -> Result<Option<R>, AccessError> {
        match self.store.get(Tree::Access, key)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode::<R>(&b)?)),
        }
    }

    fn scan<R: Record>(&self, prefix: &[u8]) -> Result<Vec<R>, AccessError> {
        let mut out = Vec::new();
        for item in self.store.scan_prefix(Tree::Access, prefix) {
            out.push(decode::<R>(&item?.1)?);
        }
        Ok(out)
    }

    /// Checks a policy document against its cloud's grammar and the length limit.
    pub fn check_document(
        &self,
        cloud: Cloud,
        field: &'static str,
        doc: &str,
        trust: bool,
    ) -> Result<Policy, AccessError> {
        let n = doc.chars().count();
        if n > self.limits.max_document_chars {
            return Err(AccessError::Document {
                field,
                kind: "TooLong".into(),
                message: format!(
                    "the policy document is {n} characters long; at most {} are allowed",
                    self.limits.max_document_chars
                ),
            });
        }
        let parsed = if trust {
            policy::parse_trust(grammar(cloud), doc)
        } else {
            policy::parse(grammar(cloud), doc)
        };
        parsed.map_err(|e| AccessError::Document {
            field,
            kind: format!("{:?}", e.kind),
            message: e.message,
        })
    }

    fn parse_cached(&self, cloud: Cloud, doc: &str) -> Option<Arc<Policy>> {
        let key = (cloud, doc.to_string());
        if let Some(p) = self.parsed.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Some(p);
        }
        let p = Arc::new(policy::parse(grammar(cloud), doc).ok()?);
        if let Ok(mut m) = self.parsed.write() {
            if m.len() >= CACHE_CAP {
                m.clear();
            }
            m.insert(key, p.clone());
        }
        Some(p)
    }

    // ----- users -------------------------------------------------------------------------

    /// Creates a sub-user.
    pub async fn create_user(
        &self,
        cloud: Cloud,
        account: &str,
        new: NewUser,
    ) -> Result<User, AccessError> {
        let now = now_ms();
        let id = match cloud {
            Cloud::Aliyun => format!("2{}", keys::random_from(keys::DIGITS, 15)),
            Cloud::Tencent => format!("2{}", keys::random_from(keys::DIGITS, 11)),
        };
        let uid = format!("1{}", keys::random_from(keys::DIGITS, 8));
        let user = User {
            cloud,
            account: account.to_string(),
            name: new.name.clone(),
            id,
            uid,
            display_name: new.display_name,
            comments: new.comments,
            email: new.email,
            phone: new.phone,
            console_login: new.console_login,
            created_ms: now,
            updated_ms: now,
            policies: Vec::new(),
            key_ids: Vec::new(),
        };
        self.write(|tx| {
            let key = keys::user(cloud, account, &user.name);
            if tx.get(Tree::Access, &key)?.is_some() {
                return abort(AccessError::AlreadyExists(Entity::User, user.name.clone()));
            }
            let idx = keys::user_id(cloud, &user.id);
            if tx.get(Tree::Access, &idx)?.is_some() {
                return abort(AccessError::Store("user id collision; retry".into()));
            }
            tx_put(tx, &key, &user)?;
            tx.insert(
                Tree::Access,
                &idx,
                format!("{account}\0{}", user.name).as_bytes(),
            )?;
            Ok(())
        })
        .await?;
        Ok(user)
    }

    /// A sub-user by name.
    pub fn get_user(&self, cloud: Cloud, account: &str, name: &str) -> Result<User, AccessError> {
        self.read::<User>(&keys::user(cloud, account, name))?
            .ok_or_else(|| AccessError::NotFound(Entity::User, name.to_string()))
    }

    /// A sub-user of `account` by id (Tencent `Uin`, Alibaba `UserId`).
    pub fn user_by_id(&self, cloud: Cloud, account: &str, id: &str) -> Result<User, AccessError> {
        let missing = || AccessError::NotFound(Entity::User, id.to_string());
        let raw = self
            .store
            .get(Tree::Access, &keys::user_id(cloud, id))?
            .ok_or_else(missing)?;
        let text = String::from_utf8_lossy(&raw);
        let (owner, name) = text.split_once('\0').ok_or_else(missing)?;
        if owner != account {
            return Err(missing());
        }
        self.get_user(cloud, account, name)
    }

    /// Every sub-user of the account, by name.
    pub fn list_users(&self, cloud: Cloud, account: &str) -> Result<Vec<User>, AccessError> {
        self.scan::<User>(&keys::users_of(cloud, account))
    }

    /// Updates a user's descriptive fields.
    pub async fn update_user(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        changes: UserChanges,
    ) -> Result<User, AccessError> {
        self.write(|tx| {
            let key = keys::user(cloud, account, name);
            let mut u: User = tx_get(tx, &key)?
                .ok_or_else(|| TxError::Abort(AccessError::NotFound(Entity::User, name.into())))?;
            if let Some(d) = &changes.display_name {
                u.display_name = d.clone();
            }
            if let Some(c) = &changes.comments {
                u.comments = c.clone();
            }
            if let Some(e) = &changes.email {
                u.email = e.clone();
            }
            if let Some(ph) = &changes.phone {
                u.phone = ph.clone();
            }
            if let Some(c) = changes.console_login {
                u.console_login = c;
            }
            u.updated_ms = now_ms();
            tx_put(tx, &key, &u)?;
            Ok(u)
        })
        .await
    }

    /// Deletes a sub-user with its access keys (revoked at once) and its attachments.
    pub async fn delete_user(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
    ) -> Result<(), AccessError> {
        self.write(|tx| {
            let key = keys::user(cloud, account, name);
            let u: User = tx_get(tx, &key)?
                .ok_or_else(|| TxError::Abort(AccessError::NotFound(Entity::User, name.into())))?;
            for a in &u.policies {
                release(tx, cloud, account, &a.policy)?;
            }
            for k in &u.key_ids {
                tx.remove(Tree::Access, &keys::access_key(k))?;
            }
            tx.remove(Tree::Access, &key)?;
            tx.remove(Tree::Access, &keys::user_id(cloud, &u.id))?;
            Ok(())
        })
        .await
    }

    // ----- access keys -------------------------------------------------------------------

    /// A new access key for a sub-user.
    pub async fn create_key(
        &self,
        cloud: Cloud,
        account: &str,
        user: &str,
        description: &str,
    ) -> Result<AccessKey, AccessError> {
        let (id, secret) = match cloud {
            Cloud::Aliyun => (
                format!("LTAI{}", keys::random_from(keys::ALNUM, 20)),
                keys::random_from(keys::ALNUM, 30),
            ),
            Cloud::Tencent => (
                format!("AKID{}", keys::random_from(keys::ALNUM, 32)),
                keys::random_from(keys::ALNUM, 32),
            ),
        };
        let key = AccessKey {
            id,
            secret,
            cloud,
            account: account.to_string(),
            user: user.to_string(),
            status: KeyStatus::Active,
            description: description.to_string(),
            created_ms: now_ms(),
        };
        let limit = self.limits.keys_per_user;
        self.write(|tx| {
            let ukey = keys::user(cloud, account, user);
            let mut u: User = tx_get(tx, &ukey)?
                .ok_or_else(|| TxError::Abort(AccessError::NotFound(Entity::User, user.into())))?;
            if u.key_ids.len() >= limit {
                return abort(AccessError::LimitExceeded {
                    what: Entity::AccessKey,
                    limit,
                });
            }
            u.key_ids.push(key.id.clone());
            tx_put(tx, &ukey, &u)?;
            tx_put(tx, &keys::access_key(&key.id), &key)?;
            Ok(())
        })
        .await?;
        Ok(key)
    }

    /// A sub-user's access keys, oldest first.
    pub fn list_keys(
        &self,
        cloud: Cloud,
        account: &str,
        user: &str,
    ) -> Result<Vec<AccessKey>, AccessError> {
        let u = self.get_user(cloud, account, user)?;
        let mut out = Vec::with_capacity(u.key_ids.len());
        for id in &u.key_ids {
            if let Some(key) = self.read::<AccessKey>(&keys::access_key(id))? {
                out.push(key);
            }
        }
        Ok(out)
    }

    /// An access key by id, whoever owns it.
    pub fn key(&self, id: &str) -> Result<Option<AccessKey>, AccessError> {
        self.read::<AccessKey>(&keys::access_key(id))
    }

    /// Sets a key `Active` or `Inactive`.
    pub async fn set_key_status(
        &self,
        cloud: Cloud,
        account: &str,
        user: Option<&str>,
        id: &str,
        status: KeyStatus,
    ) -> Result<AccessKey, AccessError> {
        self.write(|tx| {
            let mut k = owned_key(tx, cloud, account, user, id)?;
            k.status = status;
            tx_put(tx, &keys::access_key(id), &k)?;
            Ok(k)
        })
        .await
    }

    /// Deletes a key (it is refused at once).
    pub async fn delete_key(
        &self,
        cloud: Cloud,
        account: &str,
        user: Option<&str>,
        id: &str,
    ) -> Result<(), AccessError> {
        self.write(|tx| {
            let k = owned_key(tx, cloud, account, user, id)?;
            tx.remove(Tree::Access, &keys::access_key(id))?;
            let ukey = keys::user(cloud, account, &k.user);
            if let Some(mut u) = tx_get::<User>(tx, &ukey)? {
                u.key_ids.retain(|x| x != id);
                tx_put(tx, &ukey, &u)?;
            }
            Ok(())
        })
        .await
    }

    // ----- policies ----------------------------------------------------------------------

    /// Creates a custom policy (version 1, the default).
    pub async fn create_policy(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        document: &str,
        description: &str,
    ) -> Result<ManagedPolicy, AccessError> {
        if system::by_name(cloud, name).is_some() {
            return Err(AccessError::AlreadyExists(Entity::Policy, name.to_string()));
        }
        let now = now_ms();
        self.write(|tx| {
            let key = keys::policy(cloud, account, name);
            if tx.get(Tree::Access, &key)?.is_some() {
                return abort(AccessError::AlreadyExists(Entity::Policy, name.into()));
            }
            let id = system::FIRST_CUSTOM_ID + tx_next_seq(tx)?;
            let p = ManagedPolicy {
                cloud,
                account: account.to_string(),
                name: name.to_string(),
                id,
                description: description.to_string(),
                versions: vec![PolicyVersion {
                    id: 1,
                    document: document.to_string(),
                    created_ms: now,
                }],
                default_version: 1,
                attached: 0,
                created_ms: now,
                updated_ms: now,
            };
            tx_put(tx, &key, &p)?;
            tx.insert(
                Tree::Access,
                &keys::policy_id(cloud, account, id),
                name.as_bytes(),
            )?;
            Ok(p)
        })
        .await
    }

    /// A custom policy by name.
    pub fn custom_policy(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
    ) -> Result<ManagedPolicy, AccessError> {
        self.read::<ManagedPolicy>(&keys::policy(cloud, account, name))?
            .ok_or_else(|| AccessError::NotFound(Entity::Policy, name.to_string()))
    }

    /// A policy by kind and name.
    pub fn policy(
        &self,
        cloud: Cloud,
        account: &str,
        r: &PolicyRef,
    ) -> Result<PolicyView, AccessError> {
        match r.kind {
            PolicyKind::System => {
                let p = system::by_name(cloud, &r.name)
                    .ok_or_else(|| AccessError::NotFound(Entity::Policy, r.name.clone()))?;
                let mut v = PolicyView::from(p);
                v.attached = self
                    .system_attachments(cloud, account)?
                    .get(p.name)
                    .copied()
                    .unwrap_or(0);
                Ok(v)
            }
            PolicyKind::Custom => Ok(PolicyView::from(
                &self.custom_policy(cloud, account, &r.name)?,
            )),
        }
    }

    /// `cloud`'s system policies as `account` sees them: each with the number of the account's
    /// users and roles it is attached to (a custom policy keeps its own count).
    pub fn system_policies(
        &self,
        cloud: Cloud,
        account: &str,
    ) -> Result<Vec<PolicyView>, AccessError> {
        let counts = self.system_attachments(cloud, account)?;
        Ok(system::of(cloud)
            .map(|p| {
                let mut v = PolicyView::from(p);
                v.attached = counts.get(p.name).copied().unwrap_or(0);
                v
            })
            .collect())
    }

    /// How many of the account's users and roles each system policy is attached to.
    fn system_attachments(
        &self,
        cloud: Cloud,
        account: &str,
    ) -> Result<HashMap<String, u32>, AccessError> {
        let users = self.list_users(cloud, account)?;
        let roles = self.list_roles(cloud, account)?;
        let mut n: HashMap<String, u32> = HashMap::new();
        let held = users.iter().flat_map(|u| &u.policies);
        for a in held.chain(roles.iter().flat_map(|r| &r.policies)) {
            if a.policy.kind == PolicyKind::System {
                *n.entry(a.policy.name.clone()).or_insert(0) += 1;
            }
        }
        Ok(n)
    }

    /// A policy by Tencent `PolicyId` (preset or custom).
    pub fn policy_by_id(
        &self,
        cloud: Cloud,
        account: &str,
        id: u64,
    ) -> Result<PolicyView, AccessError> {
        if let Some(p) = system::by_id(cloud, id) {
            return Ok(PolicyView::from(p));
        }
        let missing = || AccessError::NotFound(Entity::Policy, id.to_string());
        let name = self
            .store
            .get(Tree::Access, &keys::policy_id(cloud, account, id))?
            .ok_or_else(missing)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        Ok(PolicyView::from(
            &self.custom_policy(cloud, account, &name)?,
        ))
    }

    /// Every custom policy of the account, by name.
    pub fn list_custom_policies(
        &self,
        cloud: Cloud,
        account: &str,
    ) -> Result<Vec<ManagedPolicy>, AccessError> {
        self.scan::<ManagedPolicy>(&keys::policies_of(cloud, account))
    }

    /// Adds a version to a custom policy; `set_default` makes it the one in force.
    pub async fn create_policy_version(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        document: &str,
        set_default: bool,
    ) -> Result<PolicyVersion, AccessError> {
        let limit = self.limits.versions_per_policy;
        self.write(|tx| {
            let key = keys::policy(cloud, account, name);
            let mut p: ManagedPolicy = tx_get(tx, &key)?.ok_or_else(|| {
                TxError::Abort(AccessError::NotFound(Entity::Policy, name.into()))
            })?;
            if p.versions.len() >= limit {
                return abort(AccessError::LimitExceeded {
                    what: Entity::PolicyVersion,
                    limit,
                });
            }
            let id = p.versions.iter().map(|v| v.id).max().unwrap_or(0) + 1;
            let v = PolicyVersion {
                id,
                document: document.to_string(),
                created_ms: now_ms(),
            };
            p.versions.push(v.clone());
            if set_default {
                p.default_version = id;
            }
            p.updated_ms = v.created_ms;
            tx_put(tx, &key, &p)?;
            Ok(v)
        })
        .await
    }

    /// Makes an existing version of a custom policy the one in force.
    pub async fn set_default_version(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<ManagedPolicy, AccessError> {
        self.write(|tx| {
            let key = keys::policy(cloud, account, name);
            let mut p: ManagedPolicy = tx_get(tx, &key)?.ok_or_else(|| {
                TxError::Abort(AccessError::NotFound(Entity::Policy, name.into()))
            })?;
            if !p.versions.iter().any(|v| v.id == version) {
                return abort(AccessError::NotFound(
                    Entity::PolicyVersion,
                    format!("v{version}"),
                ));
            }
            p.default_version = version;
            p.updated_ms = now_ms();
            tx_put(tx, &key, &p)?;
            Ok(p)
        })
        .await
    }

    /// Replaces a custom policy's document (Tencent UpdatePolicy: one version) and/or
    /// description.
    pub async fn update_policy(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        document: Option<&str>,
        description: Option<&str>,
    ) -> Result<ManagedPolicy, AccessError> {
        self.write(|tx| {
            let key = keys::policy(cloud, account, name);
            let mut p: ManagedPolicy = tx_get(tx, &key)?.ok_or_else(|| {
                TxError::Abort(AccessError::NotFound(Entity::Policy, name.into()))
            })?;
            let now = now_ms();
            if let Some(d) = document {
                let id = p.default_version;
                match p.versions.iter_mut().find(|v| v.id == id) {
                    Some(v) => {
                        v.document = d.to_string();
                        v.created_ms = now;
                    }
                    None => p.versions.push(PolicyVersion {
                        id: 1,
                        document: d.to_string(),
                        created_ms: now,
                    }),
                }
            }
            if let Some(d) = description {
                p.description = d.to_string();
            }
            p.updated_ms = now;
            tx_put(tx, &key, &p)?;
            Ok(p)
        })
        .await
    }

    /// Deletes a custom policy. `detach`: Tencent's rule (attachments go with it); else
    /// Alibaba's (refused while attached).
    pub async fn delete_policy(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        detach: bool,
    ) -> Result<(), AccessError> {
        if system::by_name(cloud, name).is_some() {
            return Err(AccessError::SystemPolicy(name.to_string()));
        }
        let holders: Vec<Vec<u8>> = if detach {
            let r = PolicyRef {
                kind: PolicyKind::Custom,
                name: name.to_string(),
            };
            let mut h = Vec::new();
            for u in self.list_users(cloud, account)? {
                if u.policies.iter().any(|a| a.policy == r) {
                    h.push(keys::user(cloud, account, &u.name));
                }
            }
            for ro in self.list_roles(cloud, account)? {
                if ro.policies.iter().any(|a| a.policy == r) {
                    h.push(keys::role(cloud, account, &ro.name));
                }
            }
            h
        } else {
            Vec::new()
        };
        self.write(|tx| {
            let key = keys::policy(cloud, account, name);
            let p: ManagedPolicy = tx_get(tx, &key)?.ok_or_else(|| {
                TxError::Abort(AccessError::NotFound(Entity::Policy, name.into()))
            })?;
            if p.attached > 0 && !detach {
                return abort(AccessError::DeleteConflict {
                    what: Entity::Policy,
                    message: format!(
                        "The policy `{name}` is attached to {} principal(s); detach it first.",
                        p.attached
                    ),
                });
            }
            for hk in &holders {
                strip_attachment(tx, hk, name)?;
            }
            tx.remove(Tree::Access, &key)?;
            tx.remove(Tree::Access, &keys::policy_id(cloud, account, p.id))?;
            Ok(())
        })
        .await
    }

    /// Deletes a non-default version of a custom policy.
    pub async fn delete_policy_version(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<(), AccessError> {
        self.write(|tx| {
            let key = keys::policy(cloud, account, name);
            let mut p: ManagedPolicy = tx_get(tx, &key)?.ok_or_else(|| {
                TxError::Abort(AccessError::NotFound(Entity::Policy, name.into()))
            })?;
            if p.default_version == version {
                return abort(AccessError::DeleteConflict {
                    what: Entity::PolicyVersion,
                    message: format!("The version v{version} is the default version of `{name}`."),
                });
            }
            let before = p.versions.len();
            p.versions.retain(|v| v.id != version);
            if p.versions.len() == before {
                return abort(AccessError::NotFound(
                    Entity::PolicyVersion,
                    format!("v{version}"),
                ));
            }
            tx_put(tx, &key, &p)?;
            Ok(())
        })
        .await
    }

    // ----- attachments -------------------------------------------------------------------

    /// Attaches a policy to a user or role.
    pub async fn attach(
        &self,
        cloud: Cloud,
        account: &str,
        target: Target<'_>,
        r: PolicyRef,
    ) -> Result<(), AccessError> {
        if r.kind == PolicyKind::System && system::by_name(cloud, &r.name).is_none() {
            return Err(AccessError::NotFound(Entity::Policy, r.name.clone()));
        }
        let limit = self.limits.policies_per_principal;
        self.write(|tx| {
            if r.kind == PolicyKind::Custom {
                let pk = keys::policy(cloud, account, &r.name);
                let mut p: ManagedPolicy = tx_get(tx, &pk)?.ok_or_else(|| {
                    TxError::Abort(AccessError::NotFound(Entity::Policy, r.name.clone()))
                })?;
                p.attached += 1;
                tx_put(tx, &pk, &p)?;
            }
            let attachment = Attachment {
                policy: r.clone(),
                attached_ms: now_ms(),
            };
            let tk = target_key(cloud, account, target);
            match target {
                Target::User(n) => {
                    let mut u: User = tx_get(tx, &tk)?.ok_or_else(|| {
                        TxError::Abort(AccessError::NotFound(Entity::User, n.into()))
                    })?;
                    add_attachment(&mut u.policies, attachment, limit)?;
                    tx_put(tx, &tk, &u)
                }
                Target::Role(n) => {
                    let mut ro: Role = tx_get(tx, &tk)?.ok_or_else(|| {
                        TxError::Abort(AccessError::NotFound(Entity::Role, n.into()))
                    })?;
                    add_attachment(&mut ro.policies, attachment, limit)?;
                    tx_put(tx, &tk, &ro)
                }
            }
        })
        .await
    }

    /// Detaches a policy from a user or role.
    pub async fn detach(
        &self,
        cloud: Cloud,
        account: &str,
        target: Target<'_>,
        r: PolicyRef,
    ) -> Result<(), AccessError> {
        self.write(|tx| {
            let tk = target_key(cloud, account, target);
            let missing =
                || TxError::Abort(AccessError::NotFound(Entity::Attachment, r.name.clone()));
            match target {
                Target::User(n) => {
                    let mut u: User = tx_get(tx, &tk)?.ok_or_else(|| {
                        TxError::Abort(AccessError::NotFound(Entity::User, n.into()))
                    })?;
                    let before = u.policies.len();
                    u.policies.retain(|a| a.policy != r);
                    if u.policies.len() == before {
                        return Err(missing());
                    }
                    tx_put(tx, &tk, &u)?;
                }
                Target::Role(n) => {
                    let mut ro: Role = tx_get(tx, &tk)?.ok_or_else(|| {
                        TxError::Abort(AccessError::NotFound(Entity::Role, n.into()))
                    })?;
                    let before = ro.policies.len();
                    ro.policies.retain(|a| a.policy != r);
                    if ro.policies.len() == before {
                        return Err(missing());
                    }
                    tx_put(tx, &tk, &ro)?;
                }
            }
            release(tx, cloud, account, &r)
        })
        .await
    }

    // ----- roles -------------------------------------------------------------------------

    /// Creates a role.
    pub async fn create_role(
        &self,
        cloud: Cloud,
        account: &str,
        new: NewRole,
    ) -> Result<Role, AccessError> {
        let now = now_ms();
        let role = Role {
            cloud,
            account: account.to_string(),
            name: new.name.clone(),
            id: match cloud {
                Cloud::Aliyun => format!("3{}", keys::random_from(keys::DIGITS, 18)),
                Cloud::Tencent => format!("46116860{}", keys::random_from(keys::DIGITS, 11)),
            },
            trust: new.trust,
            description: new.description,
            max_session_secs: new.max_session_secs.unwrap_or(match cloud {
                Cloud::Aliyun => 3600,
                Cloud::Tencent => 43200,
            }),
            console_login: new.console_login,
            created_ms: now,
            updated_ms: now,
            policies: Vec::new(),
        };
        self.write(|tx| {
            let key = keys::role(cloud, account, &role.name);
            if tx.get(Tree::Access, &key)?.is_some() {
                return abort(AccessError::AlreadyExists(Entity::Role, role.name.clone()));
            }
            tx_put(tx, &key, &role)?;
            tx.insert(
                Tree::Access,
                &keys::role_id(cloud, account, &role.id),
                role.name.as_bytes(),
            )?;
            Ok(())
        })
        .await?;
        Ok(role)
    }

    /// A role by name.
    pub fn get_role(&self, cloud: Cloud, account: &str, name: &str) -> Result<Role, AccessError> {
        self.read::<Role>(&keys::role(cloud, account, name))?
            .ok_or_else(|| AccessError::NotFound(Entity::Role, name.to_string()))
    }

    /// A role by id.
    pub fn role_by_id(&self, cloud: Cloud, account: &str, id: &str) -> Result<Role, AccessError> {
        let name = self
            .store
            .get(Tree::Access, &keys::role_id(cloud, account, id))?
            .ok_or_else(|| AccessError::NotFound(Entity::Role, id.to_string()))?;
        self.get_role(cloud, account, &String::from_utf8_lossy(&name))
    }

    /// Every role of the account, by name.
    pub fn list_roles(&self, cloud: Cloud, account: &str) -> Result<Vec<Role>, AccessError> {
        self.scan::<Role>(&keys::roles_of(cloud, account))
    }

    /// Changes a role's trust policy, longest session or description.
    pub async fn update_role(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        changes: RoleChanges,
    ) -> Result<Role, AccessError> {
        self.write(|tx| {
            let key = keys::role(cloud, account, name);
            let mut r: Role = tx_get(tx, &key)?
                .ok_or_else(|| TxError::Abort(AccessError::NotFound(Entity::Role, name.into())))?;
            if let Some(t) = &changes.trust {
                r.trust = t.clone();
            }
            if let Some(m) = changes.max_session_secs {
                r.max_session_secs = m;
            }
            if let Some(d) = &changes.description {
                r.description = d.clone();
            }
            r.updated_ms = now_ms();
            tx_put(tx, &key, &r)?;
            Ok(r)
        })
        .await
    }

    /// Deletes a role with its attachments. `detach`: Tencent's rule; else Alibaba's (refused
    /// while policies are attached).
    pub async fn delete_role(
        &self,
        cloud: Cloud,
        account: &str,
        name: &str,
        detach: bool,
    ) -> Result<(), AccessError> {
        self.write(|tx| {
            let key = keys::role(cloud, account, name);
            let r: Role = tx_get(tx, &key)?
                .ok_or_else(|| TxError::Abort(AccessError::NotFound(Entity::Role, name.into())))?;
            if !detach && !r.policies.is_empty() {
                return abort(AccessError::DeleteConflict {
                    what: Entity::Role,
                    message: format!(
                        "The role `{name}` has {} attached policies; detach them first.",
                        r.policies.len()
                    ),
                });
            }
            for a in &r.policies {
                release(tx, cloud, account, &a.policy)?;
            }
            tx.remove(Tree::Access, &key)?;
            tx.remove(Tree::Access, &keys::role_id(cloud, account, &r.id))?;
            Ok(())
        })
        .await
    }

    // ----- the request path --------------------------------------------------------------

    fn resolve(&self, cloud: Cloud, account: &str, list: &[Attachment]) -> Vec<NamedPolicy> {
        let mut out = Vec::with_capacity(list.len());
        for a in list {
            let doc = match a.policy.kind {
                PolicyKind::System => {
                    system::by_name(cloud, &a.policy.name).map(|p| p.document.to_string())
                }
                PolicyKind::Custom => self
                    .custom_policy(cloud, account, &a.policy.name)
                    .ok()
                    .map(|p| p.document().to_string()),
            };
            // A stored document was checked when written; one that no longer parses (a newer
            // grammar rule) grants nothing, and says so.
            match doc.and_then(|d| self.parse_cached(cloud, &d)) {
                Some(policy) => out.push(NamedPolicy {
                    name: a.policy.name.clone(),
                    kind: a.policy.kind,
                    policy,
                }),
                None => {
                    tracing::warn!(policy = %a.policy.name, "an attached policy is missing or does not parse; it grants nothing")
                }
            }
        }
        out
    }

    /// A sub-user's key with its user and parsed policies; `None` when no such key.
    pub fn key_grant(&self, key_id: &str) -> Result<Option<Arc<KeyGrant>>, AccessError> {
        let gen = self.cache_tag()?;
        if let Some((g, k)) = self.keys.read().ok().and_then(|m| m.get(key_id).cloned()) {
            if g == gen {
                return Ok(Some(k));
            }
        }
        let Some(key) = self.key(key_id)? else {
            return Ok(None);
        };
        let user = match self.get_user(key.cloud, &key.account, &key.user) {
            Ok(u) => u,
            Err(AccessError::NotFound(..)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let policies = self.resolve(key.cloud, &key.account, &user.policies);
        let grant = Arc::new(KeyGrant {
            key,
            user,
            policies,
            memo: Candidates::default(),
        });
        if let Ok(mut m) = self.keys.write() {
            if m.len() >= CACHE_CAP {
                m.clear();
            }
            m.insert(key_id.to_string(), (gen, grant.clone()));
        }
        Ok(Some(grant))
    }

    /// A role with its parsed policies; `None` when the role is gone.
    pub fn role_grant(
        &self,
        cloud: Cloud,
        account: &str,
        role: &str,
    ) -> Result<Option<Arc<RoleGrant>>, AccessError> {
        let gen = self.cache_tag()?;
        let ck = format!("{}\0{account}\0{role}", cloud.tag());
        if let Some((g, r)) = self.roles.read().ok().and_then(|m| m.get(&ck).cloned()) {
            if g == gen {
                return Ok(Some(r));
            }
        }
        let r = match self.get_role(cloud, account, role) {
            Ok(r) => r,
            Err(AccessError::NotFound(..)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let policies = self.resolve(cloud, account, &r.policies);
        let grant = Arc::new(RoleGrant {
            role: r,
            policies,
            memo: Candidates::default(),
        });
        if let Ok(mut m) = self.roles.write() {
            if m.len() >= CACHE_CAP {
                m.clear();
            }
            m.insert(ck, (gen, grant.clone()));
        }
        Ok(Some(grant))
    }

    /// Parses a session policy (cached: the same text comes with every request of a session).
    pub fn session_policy(&self, cloud: Cloud, text: &str) -> Option<Arc<Policy>> {
        self.parse_cached(cloud, text)
    }
}

fn owned_key(
    tx: &Tx<'_>,
    cloud: Cloud,
    account: &str,
    user: Option<&str>,
    id: &str,
) -> Result<AccessKey, TxError<AccessError>> {
    let k: AccessKey = tx_get(tx, &keys::access_key(id))?
        .ok_or_else(|| TxError::Abort(AccessError::NotFound(Entity::AccessKey, id.into())))?;
    if k.cloud != cloud || k.account != account || user.is_some_and(|u| u != k.user) {
        return abort(AccessError::NotFound(Entity::AccessKey, id.into()));
    }
    Ok(k)
}

fn add_attachment(
    list: &mut Vec<Attachment>,
    a: Attachment,
    limit: usize,
) -> Result<(), TxError<AccessError>> {
    if list.iter().any(|x| x.policy == a.policy) {
        return abort(AccessError::AlreadyExists(
            Entity::Attachment,
            a.policy.name.clone(),
        ));
    }
    if list.len() >= limit {
        return abort(AccessError::LimitExceeded {
            what: Entity::Attachment,
            limit,
        });
    }
    list.push(a);
    Ok(())
}

/// One attachment of a custom policy ends.
fn release(
    tx: &Tx<'_>,
    cloud: Cloud,
    account: &str,
    r: &PolicyRef,
) -> Result<(), TxError<AccessError>> {
    if r.kind != PolicyKind::Custom {
        return Ok(());
    }
    let pk = keys::policy(cloud, account, &r.name);
    if let Some(mut p) = tx_get::<ManagedPolicy>(tx, &pk)? {
        p.attached = p.attached.saturating_sub(1);
        tx_put(tx, &pk, &p)?;
    }
    Ok(())
}

fn strip_attachment(tx: &Tx<'_>, holder: &[u8], name: &str) -> Result<(), TxError<AccessError>> {
    let keep = |a: &Attachment| !(a.policy.kind == PolicyKind::Custom && a.policy.name == name);
    match holder.first() {
        Some(b'U') => {
            if let Some(mut u) = tx_get::<User>(tx, holder)? {
                u.policies.retain(keep);
                tx_put(tx, holder, &u)?;
            }
        }
        Some(b'R') => {
            if let Some(mut r) = tx_get::<Role>(tx, holder)? {
                r.policies.retain(keep);
                tx_put(tx, holder, &r)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::authorize::Mode;
    use crate::store::{Durability, Store};

    #[tokio::test]
    async fn update_user_changes_only_the_fields_it_is_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Durability::Sync).expect("store");
        let access = Access::open(store, Limits::default(), Mode::Enforce).expect("access");
        let (cloud, account) = (Cloud::Tencent, "100000000001");
        access
            .create_user(
                cloud,
                account,
                NewUser {
                    name: "u".into(),
                    display_name: "r".into(),
                    comments: "r".into(),
                    email: "a@example.com".into(),
                    phone: "1".into(),
                    console_login: false,
                },
            )
            .await
            .expect("create");
        let u = access
            .update_user(
                cloud,
                account,
                "u",
                UserChanges {
                    email: Some("b@example.com".into()),
                    phone: Some("2".into()),
                    console_login: Some(true),
                    ..UserChanges::default()
                },
            )
            .await
            .expect("update");
        assert_eq!((u.email.as_str(), u.phone.as_str()), ("b@example.com", "2"));
        assert!(u.console_login);
        assert_eq!((u.display_name.as_str(), u.comments.as_str()), ("r", "r"));
        let u = access
            .update_user(
                cloud,
                account,
                "u",
                UserChanges {
                    comments: Some("r2".into()),
                    console_login: Some(false),
                    ..UserChanges::default()
                },
            )
            .await
            .expect("update");
        assert_eq!(
            (u.comments.as_str(), u.email.as_str()),
            ("r2", "b@example.com")
        );
        assert!(!u.console_login);
        let stored = access.get_user(cloud, account, "u").expect("get");
        assert_eq!(stored.comments, "r2");
        assert!(!stored.console_login);
    }

    #[tokio::test]
    async fn a_system_policy_counts_the_accounts_attachments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Durability::Sync).expect("store");
        let access = Access::open(store, Limits::default(), Mode::Enforce).expect("access");
        let (c, a) = (Cloud::Aliyun, "100000000001");
        let reader = PolicyRef {
            kind: PolicyKind::System,
            name: "AliyunIMMReadOnlyAccess".into(),
        };
        let count = |account: &str| {
            let listed = access
                .system_policies(c, account)
                .expect("list")
                .into_iter()
                .find(|v| v.name == reader.name)
                .expect("listed")
                .attached;
            let read = access.policy(c, account, &reader).expect("read").attached;
            assert_eq!(listed, read);
            read
        };
        assert_eq!(count(a), 0);
        for name in ["u1", "u2"] {
            let new = NewUser {
                name: name.into(),
                display_name: String::new(),
                comments: String::new(),
                email: String::new(),
                phone: String::new(),
                console_login: false,
            };
            access.create_user(c, a, new).await.expect("user");
            access
                .attach(c, a, Target::User(name), reader.clone())
                .await
                .expect("attach");
        }
        assert_eq!(count(a), 2);
        assert_eq!(count("100000000002"), 0);
        access
            .detach(c, a, Target::User("u1"), reader.clone())
            .await
            .expect("detach");
        assert_eq!(count(a), 1);
    }
}
