//! The PostgreSQL engine: every tree is a key range of one table, `cloudtwin_kv (tree, k, v)`
//! with the primary key `(tree, k)`, so a scan is an index range read page by page and never
//! reads what it skips. The only file of the store that names PostgreSQL.
//!
//! The SQL is kept to what the PostgreSQL-compatible distributed engines also run: serializable
//! transactions retried on a serialization failure (SQLSTATE 40001, and 40P01), `INSERT ... ON
//! CONFLICT`, `unnest` of arrays, no advisory locks, no LISTEN/NOTIFY. A transaction reads
//! through the database and keeps its writes in memory until the body returns, then sends them
//! as one upsert and one delete and commits: a write is acknowledged only after COMMIT
//! returned, and PostgreSQL's commit is durable (`synchronous_commit`), so the facade's
//! flushes are no-ops here.
//!
//! The blocking `postgres` client runs its own small runtime, which must not be entered from an
//! async worker: every call goes through [`blocking`], which leaves the worker with
//! `block_in_place` first (the server runs a multi-threaded runtime).
//!
//! What several nodes share beyond the trees (the Alibaba nonces and the rate limiter's
//! buckets) are two more tables, reached through [`Shared`].

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};

use super::engine::{Engine, EngineScan, Item, Reader, Shared, Stop, Txn};
use super::error::{Conflict, ConflictKind, StoreError, TxFailure};
use super::sled_engine::SledEngine;
use super::tree::Tree;

/// The tables, created at open when missing (each statement is safe to run on many nodes at
/// once; a race on the catalogue is retried).
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS cloudtwin_kv (
        tree TEXT NOT NULL, k BYTEA NOT NULL, v BYTEA NOT NULL, PRIMARY KEY (tree, k))",
    "CREATE TABLE IF NOT EXISTS cloudtwin_nonces (
        nonce TEXT PRIMARY KEY, expires_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS cloudtwin_nonces_expiry ON cloudtwin_nonces (expires_ms)",
    "CREATE TABLE IF NOT EXISTS cloudtwin_limits (
        bucket TEXT PRIMARY KEY, tat_us BIGINT NOT NULL, ok BOOLEAN NOT NULL)",
];
/// How often a node removes the expired nonces, ms.
const NONCE_SWEEP_MS: u64 = 60_000;
/// The pseudo-tree of the rewrite journal; its key `b""` marks that a journal exists.
const JOURNAL: &str = "rewrite_journal";
/// Rows a scan asks for first (most scans are pages of a listing), then per later page.
const FIRST_PAGE: i64 = 64;
const PAGE: i64 = 1024;
/// Serialization failures a transaction is retried through before it gives up.
const MAX_ATTEMPTS: u32 = 200;
/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection of the pool.
const POOL_PATIENCE: Duration = Duration::from_secs(30);
/// Connections a node keeps when the configuration names none.
pub const DEFAULT_POOL: usize = 8;

/// Runs blocking client work: off the async worker when called from one.
pub(crate) fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::CurrentThread => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
        Ok(_) => tokio::task::block_in_place(f),
        Err(_) => f(),
    }
}

/// The prepared statements of one connection.
struct Statements {
    get: Statement,
    get_many: Statement,
    fwd_to: Statement,
    fwd_open: Statement,
    rev_to: Statement,
    rev_open: Statement,
    count: Statement,
    upsert: Statement,
    delete: Statement,
    upsert_many: Statement,
    delete_many: Statement,
    drop: Statement,
    nonce: Statement,
    nonce_sweep: Statement,
    gcra: Statement,
}

struct Conn {
    client: Client,
    st: Statements,
}

impl Conn {
    fn open(config: &postgres::Config) -> Result<Conn, StoreError> {
        let mut client = config.connect(NoTls).map_err(unavailable)?;
        let kv = "cloudtwin_kv";
        let mut p = |sql: &str| client.prepare(sql).map_err(backend);
        let st = Statements {
            get: p(&format!("SELECT v FROM {kv} WHERE tree = $1 AND k = $2"))?,
            get_many: p(&format!(
                "SELECT k, v FROM {kv} WHERE tree = $1 AND k = ANY($2::bytea[])"
            ))?,
            fwd_to: p(&format!(
                "SELECT k, v FROM {kv} WHERE tree = $1 AND k >= $2 AND k < $3 ORDER BY k LIMIT $4"
            ))?,
            fwd_open: p(&format!(
                "SELECT k, v FROM {kv} WHERE tree = $1 AND k >= $2 ORDER BY k LIMIT $3"
            ))?,
            rev_to: p(&format!(
                "SELECT k, v FROM {kv} WHERE tree = $1 AND k >= $2 AND k < $3 \
                 ORDER BY k DESC LIMIT $4"
            ))?,
            rev_open: p(&format!(
                "SELECT k, v FROM {kv} WHERE tree = $1 AND k >= $2 ORDER BY k DESC LIMIT $3"
            ))?,
            count: p(&format!("SELECT count(*) FROM {kv} WHERE tree = $1"))?,
            upsert: p(&format!(
                "INSERT INTO {kv} (tree, k, v) VALUES ($1, $2, $3) \
                 ON CONFLICT (tree, k) DO UPDATE SET v = excluded.v"
            ))?,
            delete: p(&format!("DELETE FROM {kv} WHERE tree = $1 AND k = $2"))?,
            upsert_many: p(&format!(
                "INSERT INTO {kv} (tree, k, v) \
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[]) \
                 ON CONFLICT (tree, k) DO UPDATE SET v = excluded.v"
            ))?,
            delete_many: p(&format!(
                "DELETE FROM {kv} WHERE (tree, k) IN \
                 (SELECT * FROM unnest($1::text[], $2::bytea[]))"
            ))?,
            drop: p(&format!("DELETE FROM {kv} WHERE tree = ANY($1::text[])"))?,
            nonce: p(
                "INSERT INTO cloudtwin_nonces (nonce, expires_ms) VALUES ($1, $2) \
                 ON CONFLICT (nonce) DO UPDATE SET expires_ms = excluded.expires_ms \
                 WHERE cloudtwin_nonces.expires_ms < $3",
            )?,
            nonce_sweep: p("DELETE FROM cloudtwin_nonces WHERE expires_ms < $1")?,
            // GCRA: a request is allowed when the bucket's theoretical arrival time is at most
            // `tolerance` ahead of now; then it moves one interval on. Every SET expression
            // reads the row as it was.
            gcra: p("INSERT INTO cloudtwin_limits (bucket, tat_us, ok) \
                 VALUES ($1, $2::bigint + $3::bigint, true) \
                 ON CONFLICT (bucket) DO UPDATE SET \
                   ok = greatest(cloudtwin_limits.tat_us, $2::bigint) - $2::bigint <= $4::bigint, \
                   tat_us = CASE \
                     WHEN greatest(cloudtwin_limits.tat_us, $2::bigint) - $2::bigint <= $4::bigint \
                     THEN greatest(cloudtwin_limits.tat_us, $2::bigint) + $3::bigint \
                     ELSE cloudtwin_limits.tat_us END \
                 RETURNING ok, tat_us")?,
        };
        Ok(Conn { client, st })
    }
}

/// The node's connections: at most `max` open, reused, a broken one dropped and replaced.
struct Pool {
    config: postgres::Config,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Conn>,
    in_use: usize,
}

/// A connection taken from the pool; given back when dropped (unless it broke).
struct Lease<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
    broken: bool,
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    /// Notes an error: a connection that failed below SQL is not given back.
    fn check<T>(&mut self, r: Result<T, postgres::Error>) -> Result<T, postgres::Error> {
        if let Err(e) = &r {
            if e.code().is_none() || self.conn().client.is_closed() {
                self.broken = true;
            }
        }
        r
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        state.in_use -= 1;
        if let Some(c) = self.conn.take() {
            if !self.broken && !c.client.is_closed() {
                state.idle.push(c);
            }
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self) -> Result<Lease<'_>, StoreError> {
        let mut state = self.lock();
        let deadline = std::time::Instant::now() + POOL_PATIENCE;
        while state.in_use >= self.max {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable(format!(
                    "no database connection came free within {}s (store.pool = {})",
                    POOL_PATIENCE.as_secs(),
                    self.max
                )));
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state.in_use += 1;
        let idle = state.idle.pop();
        drop(state);
        let mut lease = Lease {
            pool: self,
            conn: None,
            broken: false,
        };
        lease.conn = Some(match idle {
            Some(c) => c,
            None => Conn::open(&self.config)?,
        });
        Ok(lease)
    }

    /// Runs `f` on a connection; once more on a fresh one when the first had broken (a
    /// database restart leaves every pooled connection dead). Only for work that is safe to
    /// run twice (reads, single idempotent statements).
    fn run<T>(&self, f: impl Fn(&mut Conn) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
        let mut lease = self.take()?;
        let first = f(lease.conn());
        match lease.check(first) {
            Ok(v) => Ok(v),
            Err(_) if lease.broken => {
                drop(lease);
                let mut lease = self.take()?;
                let again = f(lease.conn());
                lease.check(again).map_err(classify)
            }
            Err(e) => Err(classify(e)),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A client owns a runtime, which must not be dropped on an async worker.
        let idle = std::mem::take(&mut self.lock().idle);
        blocking(move || drop(idle));
    }
}

fn backend(e: postgres::Error) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: {e}"))
}

fn unavailable(e: postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("{e}"))
}

/// A database error as the store reports it: connection trouble is `Unavailable` (retriable).
fn classify(e: postgres::Error) -> StoreError {
    if e.code().is_none() {
        unavailable(e)
    } else {
        backend(e)
    }
}

fn is_retry(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn conflict(e: postgres::Error) -> Conflict {
    if is_retry(&e) {
        Conflict(ConflictKind::Retry)
    } else {
        Conflict(ConflictKind::Failed(classify(e)))
    }
}

/// The lowest key of a range (inclusive) and its end (exclusive, `None`: the end of the tree).
/// The key right after `x` is `x` followed by a zero byte.
fn bounds(lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> (Vec<u8>, Option<Vec<u8>>) {
    let next = |mut x: Vec<u8>| {
        x.push(0);
        x
    };
    let lo = match lo {
        Bound::Included(x) => x,
        Bound::Excluded(x) => next(x),
        Bound::Unbounded => Vec::new(),
    };
    let hi = match hi {
        Bound::Included(x) => Some(next(x)),
        Bound::Excluded(x) => Some(x),
        Bound::Unbounded => None,
    };
    (lo, hi)
}

type Row = (Vec<u8>, Vec<u8>);

fn page(
    c: &mut Conn,
    tree: &str,
    lo: &[u8],
    hi: Option<&[u8]>,
    descending: bool,
    limit: i64,
) -> Result<Vec<Row>, postgres::Error> {
    let rows = match (hi, descending) {
        (Some(hi), false) => c.client.query(&c.st.fwd_to, &[&tree, &lo, &hi, &limit])?,
        (Some(hi), true) => c.client.query(&c.st.rev_to, &[&tree, &lo, &hi, &limit])?,
        (None, false) => c.client.query(&c.st.fwd_open, &[&tree, &lo, &limit])?,
        (None, true) => c.client.query(&c.st.rev_open, &[&tree, &lo, &limit])?,
    };
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Where a scan reads its pages: the pool (each page on any connection), or one snapshot.
#[derive(Clone)]
enum Source {
    Pool(Arc<Pool>),
    Snapshot(Arc<Mutex<SnapshotConn>>),
}

impl Source {
    fn page(
        &self,
        tree: &str,
        lo: &[u8],
        hi: Option<&[u8]>,
        descending: bool,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Source::Pool(pool) => {
                blocking(|| pool.run(|c| page(c, tree, lo, hi, descending, limit)))
            }
            Source::Snapshot(s) => blocking(|| {
                let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
                let r = page(s.conn(), tree, lo, hi, descending, limit);
                r.map_err(classify)
            }),
        }
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let name = tree.name();
        let get = |c: &mut Conn| -> Result<Option<Vec<u8>>, postgres::Error> {
            match c.client.query_opt(&c.st.get, &[&name, &key])? {
                Some(row) => Ok(Some(row.try_get(0)?)),
                None => Ok(None),
            }
        };
        match self {
            Source::Pool(pool) => blocking(|| pool.run(get)),
            Source::Snapshot(s) => blocking(|| {
                let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
                get(s.conn()).map_err(classify)
            }),
        }
    }

    fn range(
        &self,
        tree: Tree,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        descending: bool,
    ) -> EngineScan {
        let (lo, hi) = bounds(lo, hi);
        Box::new(PgScan {
            source: self.clone(),
            tree: tree.name(),
            lo,
            hi,
            descending,
            buf: VecDeque::new(),
            limit: FIRST_PAGE,
            done: false,
        })
    }
}

/// A key range read page by page, each page starting after the last key of the one before.
struct PgScan {
    source: Source,
    tree: &'static str,
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    descending: bool,
    buf: VecDeque<Row>,
    limit: i64,
    done: bool,
}

impl Iterator for PgScan {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.buf.is_empty() && !self.done {
            if matches!(&self.hi, Some(hi) if *hi <= self.lo) {
                self.done = true;
                return None;
            }
            let rows = match self.source.page(
                self.tree,
                &self.lo,
                self.hi.as_deref(),
                self.descending,
                self.limit,
            ) {
                Ok(rows) => rows,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            self.done = (rows.len() as i64) < self.limit;
            self.limit = PAGE;
            if let Some((last, _)) = rows.last() {
                if self.descending {
                    self.hi = Some(last.clone());
                } else {
                    self.lo = last.clone();
                    self.lo.push(0);
                }
            }
            self.buf.extend(rows);
        }
        self.buf.pop_front().map(Ok)
    }
}

/// One connection inside a read-only repeatable-read transaction: every read of it sees the
/// same moment of the database. Rolled back and given back when the last reader lets go.
struct SnapshotConn {
    pool: Arc<Pool>,
    conn: Option<Conn>,
}

impl SnapshotConn {
    fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a snapshot holds its connection until dropped")
    }
}

impl Drop for SnapshotConn {
    fn drop(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let pool = self.pool.clone();
            blocking(move || {
                let ok = c.client.batch_execute("ROLLBACK").is_ok();
                let mut state = pool.lock();
                state.in_use -= 1;
                if ok {
                    state.idle.push(c);
                }
                drop(state);
                pool.freed.notify_one();
            });
        }
    }
}

struct PgSnapshot(Source);

impl Reader for PgSnapshot {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(tree, key)
    }

    fn range(
        &self,
        tree: Tree,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        descending: bool,
    ) -> EngineScan {
        self.0.range(tree, lo, hi, descending)
    }
}

/// A transaction's writes, by (tree index, key): a value, or `None` for a removal.
type Writes = BTreeMap<(usize, Vec<u8>), Option<Vec<u8>>>;

/// A transaction's view: reads go to the database (after its own writes), writes wait in
/// memory for the commit.
struct PgTxn<'a> {
    conn: RefCell<&'a mut Conn>,
    writes: RefCell<Writes>,
}

impl Txn for PgTxn<'_> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, Conflict> {
        if let Some(v) = self.writes.borrow().get(&(tree.index(), key.to_vec())) {
            return Ok(v.clone());
        }
        let mut c = self.conn.borrow_mut();
        let c = &mut **c;
        let name = tree.name();
        match c.client.query_opt(&c.st.get, &[&name, &key]) {
            Ok(Some(row)) => row.try_get(0).map(Some).map_err(conflict),
            Ok(None) => Ok(None),
            Err(e) => Err(conflict(e)),
        }
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), Conflict> {
        self.writes
            .borrow_mut()
            .insert((tree.index(), key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), Conflict> {
        self.writes
            .borrow_mut()
            .insert((tree.index(), key.to_vec()), None);
        Ok(())
    }
}

/// Sends a transaction's writes: one upsert of every value, one delete of every removal.
fn write_all(c: &mut Conn, writes: Writes) -> Result<(), postgres::Error> {
    let mut put = (Vec::new(), Vec::new(), Vec::new());
    let mut del = (Vec::new(), Vec::new());
    for ((t, k), v) in writes {
        let name = Tree::from_index(t).map_or("", Tree::name);
        match v {
            Some(v) => {
                put.0.push(name);
                put.1.push(k);
                put.2.push(v);
            }
            None => {
                del.0.push(name);
                del.1.push(k);
            }
        }
    }
    if !put.0.is_empty() {
        c.client
            .execute(&c.st.upsert_many, &[&put.0, &put.1, &put.2])?;
    }
    if !del.0.is_empty() {
        c.client.execute(&c.st.delete_many, &[&del.0, &del.1])?;
    }
    Ok(())
}

/// A short pause before a transaction runs again, growing with the attempts, spread so that
/// the losers of one race do not meet again at once.
fn backoff(attempt: u32) {
    let spread = u64::from(std::process::id())
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(crate::clock::now_ms().wrapping_mul(0xBF58_476D_1CE4_E5B9))
        >> 58;
    let base = u64::from(attempt.min(8));
    std::thread::sleep(Duration::from_micros((base * 400) + spread * 150));
}

/// A PostgreSQL database as the store's engine.
pub(crate) struct PgEngine {
    pool: Arc<Pool>,
    /// The URL without its password, for messages.
    shown: String,
    /// When this node last removed expired nonces (ms; 0: never).
    nonces_swept_ms: std::sync::atomic::AtomicU64,
}

impl PgEngine {
    /// Connects to `url`, creates the tables when missing, and keeps up to `pool` connections.
    pub(crate) fn connect(url: &str, pool: usize) -> Result<PgEngine, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Target(format!("store.url {}: {e}", redact(url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("cloudtwin");
        }
        let engine = PgEngine {
            pool: Arc::new(Pool {
                config,
                max: pool.max(1),
                state: Mutex::new(PoolState::default()),
                freed: Condvar::new(),
            }),
            shown: redact(url),
            nonces_swept_ms: std::sync::atomic::AtomicU64::new(0),
        };
        blocking(|| engine.create_schema())?;
        Ok(engine)
    }

    /// The database, as messages name it (no password).
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    fn create_schema(&self) -> Result<(), StoreError> {
        let config = &self.pool.config;
        let mut client = config.connect(NoTls).map_err(|e| {
            StoreError::Unavailable(format!("cannot connect to {}: {e}", self.shown))
        })?;
        for sql in SCHEMA {
            let mut attempt = 0;
            loop {
                match client.batch_execute(sql) {
                    Ok(()) => break,
                    // Two nodes creating the same table at once: one of them loses a race on
                    // the catalogue; the statement is then a no-op.
                    Err(e)
                        if attempt < 20
                            && matches!(e.code(), Some(c) if *c == SqlState::UNIQUE_VIOLATION
                                || *c == SqlState::DUPLICATE_TABLE
                                || *c == SqlState::DUPLICATE_OBJECT
                                || *c == SqlState::T_R_SERIALIZATION_FAILURE) =>
                    {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => return Err(backend(e)),
                }
            }
        }
        Ok(())
    }

    fn source(&self) -> Source {
        Source::Pool(self.pool.clone())
    }

    fn transact_blocking(
        &self,
        body: &dyn Fn(&dyn Txn) -> Result<(), Stop>,
    ) -> Result<(), TxFailure<()>> {
        let mut lease = self.pool.take().map_err(TxFailure::Store)?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let begun = lease
                .conn()
                .client
                .batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE");
            if let Err(e) = lease.check(begun) {
                if lease.broken && attempt == 1 {
                    // A pooled connection that died with the database: try a fresh one.
                    drop(lease);
                    lease = self.pool.take().map_err(TxFailure::Store)?;
                    continue;
                }
                return Err(TxFailure::Store(classify(e)));
            }
            let outcome = {
                let txn = PgTxn {
                    conn: RefCell::new(lease.conn()),
                    writes: RefCell::new(BTreeMap::new()),
                };
                match body(&txn) {
                    Ok(()) => {
                        let writes = txn.writes.into_inner();
                        let c = txn.conn.into_inner();
                        match write_all(c, writes) {
                            Ok(()) => c.client.batch_execute("COMMIT").map_err(conflict),
                            Err(e) => Err(conflict(e)),
                        }
                    }
                    Err(Stop::Abort) => {
                        let r = lease_rollback(txn.conn.into_inner());
                        return match r {
                            Ok(()) => Err(TxFailure::Abort(())),
                            Err(e) => {
                                lease.broken = true;
                                Err(TxFailure::Store(classify(e)))
                            }
                        };
                    }
                    Err(Stop::Conflict(c)) => Err(c),
                }
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(Conflict(ConflictKind::Retry)) if attempt < MAX_ATTEMPTS => {
                    if lease_rollback(lease.conn()).is_err() {
                        lease.broken = true;
                        return Err(TxFailure::Store(StoreError::Unavailable(
                            "the connection broke while a transaction was retried".into(),
                        )));
                    }
                    backoff(attempt);
                }
                Err(Conflict(ConflictKind::Retry)) => {
                    let _ = lease_rollback(lease.conn());
                    return Err(TxFailure::Store(StoreError::Backend(format!(
                        "a transaction met {MAX_ATTEMPTS} serialization failures in a row"
                    ))));
                }
                Err(Conflict(ConflictKind::Failed(e))) => {
                    if lease_rollback(lease.conn()).is_err() {
                        lease.broken = true;
                    }
                    return Err(TxFailure::Store(e));
                }
            }
        }
    }
}

fn lease_rollback(c: &mut Conn) -> Result<(), postgres::Error> {
    c.client.batch_execute("ROLLBACK")
}

/// `url` without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Reader for PgEngine {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.source().get(tree, key)
    }

    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.len() < 2 {
            return keys.iter().map(|k| self.get(tree, k)).collect();
        }
        let name = tree.name();
        let rows = blocking(|| {
            self.pool.run(|c| {
                let rows = c.client.query(&c.st.get_many, &[&name, &keys])?;
                rows.iter()
                    .map(|r| Ok((r.try_get::<_, Vec<u8>>(0)?, r.try_get::<_, Vec<u8>>(1)?)))
                    .collect::<Result<Vec<_>, postgres::Error>>()
            })
        })?;
        let found: std::collections::HashMap<Vec<u8>, Vec<u8>> = rows.into_iter().collect();
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn range(
        &self,
        tree: Tree,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        descending: bool,
    ) -> EngineScan {
        self.source().range(tree, lo, hi, descending)
    }
}

impl Engine for PgEngine {
    fn len(&self, tree: Tree) -> usize {
        let name = tree.name();
        let n = blocking(|| {
            self.pool.run(|c| {
                let row = c.client.query_one(&c.st.count, &[&name])?;
                row.try_get::<_, i64>(0)
            })
        });
        match n {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, tree = name, "cannot count a tree");
                0
            }
        }
    }

    fn put(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let name = tree.name();
        blocking(|| {
            self.pool.run(|c| {
                match value {
                    Some(v) => c.client.execute(&c.st.upsert, &[&name, &key, &v])?,
                    None => c.client.execute(&c.st.delete, &[&name, &key])?,
                };
                Ok(())
            })
        })
    }

    fn transact(&self, body: &dyn Fn(&dyn Txn) -> Result<(), Stop>) -> Result<(), TxFailure<()>> {
        // The body is not `Send`; it runs here, on a thread that left the async worker.
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread => {
                Err(TxFailure::Store(StoreError::Backend(
                    "the PostgreSQL engine needs a multi-threaded runtime".into(),
                )))
            }
            Ok(_) => tokio::task::block_in_place(|| self.transact_blocking(body)),
            Err(_) => self.transact_blocking(body),
        }
    }

    fn drop_trees(&self, trees: &[Tree]) -> Result<(), StoreError> {
        let names: Vec<&str> = trees.iter().map(|t| t.name()).collect();
        blocking(|| {
            self.pool.run(|c| {
                c.client.execute(&c.st.drop, &[&names])?;
                Ok(())
            })
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every commit is durable when it returns.
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        blocking(|| {
            self.pool.run(|c| {
                let row = c.client.query_one(
                    "SELECT pg_total_relation_size('cloudtwin_kv') \
                     + pg_total_relation_size('cloudtwin_nonces') \
                     + pg_total_relation_size('cloudtwin_limits')",
                    &[],
                )?;
                row.try_get::<_, i64>(0)
            })
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    fn create_like(&self, dir: &Path) -> Result<Box<dyn Engine>, StoreError> {
        // A copy of a database is a sled data dir: what `cloudtwin backup` writes.
        Ok(Box::new(SledEngine::create_in(dir)?))
    }

    fn journal_len(&self) -> Result<Option<usize>, StoreError> {
        let marker = blocking(|| {
            self.pool.run(|c| {
                Ok(c.client
                    .query_opt(&c.st.get, &[&JOURNAL, &&b""[..]])?
                    .is_some())
            })
        })?;
        if !marker {
            return Ok(None);
        }
        let n = blocking(|| {
            self.pool.run(|c| {
                let row = c.client.query_one(&c.st.count, &[&JOURNAL])?;
                row.try_get::<_, i64>(0)
            })
        })?;
        Ok(Some(usize::try_from(n - 1).unwrap_or(0)))
    }

    fn journal_clear(&self) -> Result<(), StoreError> {
        blocking(|| {
            self.pool.run(|c| {
                c.client.execute(&c.st.drop, &[&vec![JOURNAL]])?;
                c.client
                    .execute(&c.st.upsert, &[&JOURNAL, &&b""[..], &&b""[..]])?;
                Ok(())
            })
        })
    }

    fn journal_append(&self, first: u64, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        let trees = vec![JOURNAL; entries.len()];
        let keys: Vec<Vec<u8>> = (0..entries.len())
            .map(|i| (first + i as u64).to_be_bytes().to_vec())
            .collect();
        blocking(|| {
            self.pool.run(|c| {
                c.client
                    .execute(&c.st.upsert_many, &[&trees, &keys, &entries])?;
                Ok(())
            })
        })
    }

    fn journal_entries(&self) -> EngineScan {
        let source = self.source();
        let (lo, hi) = bounds(Bound::Excluded(Vec::new()), Bound::Unbounded);
        Box::new(PgScan {
            source,
            tree: JOURNAL,
            lo,
            hi,
            descending: false,
            buf: VecDeque::new(),
            limit: PAGE,
            done: false,
        })
    }

    fn journal_drop(&self) -> Result<(), StoreError> {
        blocking(|| {
            self.pool.run(|c| {
                c.client.execute(&c.st.drop, &[&vec![JOURNAL]])?;
                Ok(())
            })
        })
    }

    fn durable_commits(&self) -> bool {
        true
    }

    fn single_rewrite_max(&self) -> usize {
        // One database transaction holds any rewrite; no journal is needed.
        usize::MAX
    }

    fn snapshot(&self) -> Option<Result<Box<dyn Reader>, StoreError>> {
        let pool = self.pool.clone();
        let taken = blocking(|| -> Result<SnapshotConn, StoreError> {
            let mut lease = pool.take()?;
            let begun = lease
                .conn()
                .client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            lease.check(begun).map_err(classify)?;
            // The connection now belongs to the snapshot, which gives it back.
            let conn = lease.conn.take();
            std::mem::forget(lease);
            Ok(SnapshotConn {
                pool: pool.clone(),
                conn,
            })
        });
        Some(taken.map(|s| {
            Box::new(PgSnapshot(Source::Snapshot(Arc::new(Mutex::new(s))))) as Box<dyn Reader>
        }))
    }

    fn shared(&self) -> Option<&dyn Shared> {
        Some(self)
    }

    fn describe(&self) -> String {
        format!("PostgreSQL at {}", self.shown)
    }
}

impl Shared for PgEngine {
    fn claim_nonce(&self, nonce: &str, now_ms: u64, expires_ms: u64) -> Result<bool, StoreError> {
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let expires = i64::try_from(expires_ms).unwrap_or(i64::MAX);
        let fresh = blocking(|| {
            self.pool.run(|c| {
                c.client
                    .execute(&c.st.nonce, &[&nonce, &expires, &now])
                    .map(|n| n == 1)
            })
        })?;
        // Once a minute per node, the expired ones go (a range of the expiry index).
        let last = self
            .nonces_swept_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        if now_ms.saturating_sub(last) >= NONCE_SWEEP_MS
            && self
                .nonces_swept_ms
                .compare_exchange(
                    last,
                    now_ms,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_ok()
        {
            let _ = blocking(|| {
                self.pool
                    .run(|c| c.client.execute(&c.st.nonce_sweep, &[&now]).map(|_| ()))
            });
        }
        Ok(fresh)
    }

    fn gcra(
        &self,
        bucket: &str,
        now_us: u64,
        interval_us: u64,
        tolerance_us: u64,
    ) -> Result<Option<u64>, StoreError> {
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let (now, interval, tolerance) = (int(now_us), int(interval_us), int(tolerance_us));
        let (ok, tat) = blocking(|| {
            self.pool.run(|c| {
                let row = c
                    .client
                    .query_one(&c.st.gcra, &[&bucket, &now, &interval, &tolerance])?;
                Ok((row.try_get::<_, bool>(0)?, row.try_get::<_, i64>(1)?))
            })
        })?;
        Ok(if ok {
            None
        } else {
            Some(u64::try_from(tat - now - tolerance).unwrap_or(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_turn_every_range_into_an_inclusive_start_and_an_exclusive_end() {
        use Bound::*;
        assert_eq!(bounds(Unbounded, Unbounded), (vec![], None));
        assert_eq!(
            bounds(Excluded(b"a".to_vec()), Included(b"c".to_vec())),
            (b"a\0".to_vec(), Some(b"c\0".to_vec()))
        );
        assert_eq!(
            bounds(Included(b"a".to_vec()), Excluded(b"c".to_vec())),
            (b"a".to_vec(), Some(b"c".to_vec()))
        );
    }

    /// A store over a database of its own, or `None` when the PostgreSQL tests are skipped.
    fn database() -> Option<(tempfile::TempDir, super::super::Store)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = super::super::suite::test_database(dir.path())?;
        let store = super::super::Store::open_database(&url, super::super::Durability::Sync, 2)
            .expect("open");
        Some((dir, store))
    }

    #[test]
    fn a_nonce_is_fresh_once_until_it_expires() {
        let Some((_dir, store)) = database() else {
            return;
        };
        let shared = store.shared().expect("a database is shared");
        assert!(shared.claim_nonce("key/n1", 1_000, 5_000).expect("claim"));
        assert!(!shared.claim_nonce("key/n1", 2_000, 6_000).expect("replay"));
        assert!(shared.claim_nonce("key/n2", 2_000, 6_000).expect("another"));
        // After it expired, the same nonce is fresh again (the window check refuses the old
        // signature anyway).
        assert!(shared.claim_nonce("key/n1", 5_001, 9_000).expect("expired"));
    }

    #[test]
    fn the_shared_bucket_allows_a_burst_then_one_per_interval() {
        let Some((_dir, store)) = database() else {
            return;
        };
        let shared = store.shared().expect("shared");
        // 10 per second: an interval of 100 ms, a burst of 10.
        let (interval, tolerance) = (100_000, 900_000);
        let t0 = 1_000_000_000;
        for i in 0..10 {
            assert_eq!(
                shared.gcra("b", t0, interval, tolerance).expect("gcra"),
                None,
                "request {i} of the burst"
            );
        }
        let wait = shared.gcra("b", t0, interval, tolerance).expect("gcra");
        assert_eq!(wait, Some(100_000), "the eleventh waits one interval");
        assert_eq!(
            shared
                .gcra("b", t0 + 100_000, interval, tolerance)
                .expect("gcra"),
            None,
            "one interval later, one more"
        );
        assert!(shared
            .gcra("b", t0 + 100_000, interval, tolerance)
            .expect("gcra")
            .is_some());
        assert_eq!(
            shared.gcra("other", t0, interval, tolerance).expect("gcra"),
            None,
            "buckets are separate"
        );
    }

    #[test]
    fn a_task_lease_has_one_holder_across_two_nodes() {
        let Some((dir, a)) = database() else { return };
        let url = super::super::suite::test_database(dir.path()).expect("url");
        let b = super::super::Store::open_database(&url, super::super::Durability::Sync, 2)
            .expect("second node");
        let na = crate::cluster::Cluster::new(a, "node-a".into(), 60_000);
        let nb = crate::cluster::Cluster::new(b, "node-b".into(), 60_000);
        assert!(na.is_shared());
        assert!(na.take_lease("t").expect("take"));
        assert!(!nb.take_lease("t").expect("held"));
        assert_eq!(
            nb.lease_holder("t").expect("holder").as_deref(),
            Some("node-a")
        );
        na.release_lease("t").expect("release");
        assert!(nb.take_lease("t").expect("free"));
    }

    #[test]
    fn nodes_starting_at_once_on_a_new_database_all_open_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let Some(url) = super::super::suite::test_database(dir.path()) else {
            return;
        };
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || {
                    super::super::Store::open_database(&url, super::super::Durability::Sync, 1)
                        .map(|s| s.schema_version())
                })
            })
            .collect();
        for t in opened {
            let schema = t.join().expect("thread").expect("open").expect("schema");
            assert_eq!(schema, cloudtwin_migrations::CURRENT_SCHEMA);
        }
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            redact("postgres://u:secret@127.0.0.1:5432/db"),
            "postgres://u:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=h user=u"), "host=h user=u");
    }
}
