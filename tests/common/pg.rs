//! The private PostgreSQL of tests/run.sh (`CLOUDTWIN_TEST_PG_URL`, from tests/pg.sh): a
//! database of a test's own, dropped at the end. Without the variable a test fails with a
//! message, unless `CLOUDTWIN_SKIP_PG=1` skips it on purpose.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn skip_pg() -> bool {
    std::env::var("CLOUDTWIN_SKIP_PG").is_ok_and(|v| v == "1")
}

/// The superuser URL of the test server, or `None` when the PostgreSQL tests are skipped.
pub fn admin_url() -> Option<String> {
    match std::env::var("CLOUDTWIN_TEST_PG_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                skip_pg(),
                "CLOUDTWIN_TEST_PG_URL is not set: run tests/run.sh (it starts a private \
                 PostgreSQL), or `source tests/pg.sh && pg_start` first, or set \
                 CLOUDTWIN_SKIP_PG=1 to skip the PostgreSQL tests"
            );
            eprintln!("CLOUDTWIN_SKIP_PG=1: PostgreSQL test skipped");
            None
        }
    }
}

/// A database of one test's own, dropped at the end.
pub struct Db {
    admin: String,
    name: String,
    /// The database's URL.
    pub url: String,
}

impl Db {
    pub fn create(admin: &str, tag: &str) -> Db {
        let admin = admin.to_string();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos();
        let name = format!("ct_{tag}_{}_{nanos}", std::process::id());
        let mut client =
            postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test server");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let base = admin
            .strip_suffix("/postgres")
            .expect("CLOUDTWIN_TEST_PG_URL ends with /postgres");
        let url = format!("{base}/{name}");
        Db { admin, name, url }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
