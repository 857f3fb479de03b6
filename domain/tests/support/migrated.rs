//! Fresh databases that start migrated: each is a copy of a template database that the first
//! test on the test cluster (in any test process) creates and migrates, instead of every test
//! running every migration. The domain's and the publisher's tests include this file
//! (`#[path]`); the server's take [`fingerprint`] and [`block_on`] for their own template.

#![allow(dead_code)] // each test binary uses a different part

use std::sync::LazyLock;

use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The bytes that decide what `migrator` puts in a database, for the template's name: every
/// migration's version, description, kind and checksum (SHA-384 of its SQL, which is what sqlx
/// itself compares). An edited, added or renamed migration changes them, so the template is
/// rebuilt rather than reused stale.
pub fn fingerprint(migrator: &Migrator) -> Vec<u8> {
    let mut bytes = Vec::new();
    for migration in migrator.iter() {
        let kind = format!("{:?}", migration.migration_type);
        // Each field after its length, so that no two different lists run together the same.
        let fields: [&[u8]; 4] = [&migration.version.to_le_bytes(), migration.description.as_bytes(), kind.as_bytes(), &migration.checksum];
        for field in fields {
            bytes.extend(field.len().to_le_bytes());
            bytes.extend(field);
        }
    }
    bytes
}

/// Runs `future` on a current-thread runtime of its own. A template's `prepare` is called
/// synchronously (under a file lock, on a blocking thread of the test's runtime) and sqlx is
/// async; the test's runtime cannot run it, as it may have a single thread, which is waiting for
/// this very call. Dropping the runtime afterwards also ends whatever the pool left running.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for preparing the template").block_on(future)
}

/// A fresh database with Crier's migrations (`crier_domain::MIGRATOR`) applied; returns its
/// URL. Blocking: call it through `spawn_blocking`.
pub fn migrated_database() -> String {
    static TEMPLATE: LazyLock<String> = LazyLock::new(|| {
        let mut contents = fingerprint(&crier_domain::MIGRATOR);
        // And this file, which says how the template is prepared: an edit to that makes a new one.
        contents.extend(include_bytes!("migrated.rs"));
        crier_embedded_pg::test_cluster::template_name("crier_domain", &contents)
    });
    crier_embedded_pg::test_cluster::fresh_database_from_template(&TEMPLATE, |url| {
        block_on(async {
            let pool = PgPool::connect(url).await.expect("the template database accepts connections");
            crier_domain::MIGRATOR.run(&pool).await.expect("Crier's migrations apply to the template");
            pool.close().await;
        })
    })
}
