//! One PostgreSQL cluster shared by every test process of a run, with a fresh database per test.
//!
//! Test binaries (and nextest's process-per-test) all call [`fresh_database`]; the first starts
//! the cluster, the others adopt it (the start sequence is serialised by a file lock). The
//! cluster is left running for the next test process; `scripts/test` stops it at the end
//! (`crier-embedded-pg stop <dir>`). It lives in `$CRIER_TEST_PG_DIR`, by default
//! `<temp dir>/crier-test-pg`: somewhere the `postgres` user can reach when tests run as root.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{EmbeddedPostgres, Options};

/// The shared cluster's data dir.
pub fn test_cluster_dir() -> PathBuf {
    std::env::var_os("CRIER_TEST_PG_DIR").map(PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("crier-test-pg"))
}

/// The shared test cluster, started (or adopted) on first use. Durability is off: tests never
/// need their data to survive a power cut, and fsync dominates their run time.
pub fn test_cluster() -> &'static EmbeddedPostgres {
    static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let dir = test_cluster_dir();
        EmbeddedPostgres::start(&dir, &Options { fsync: false, ..Options::default() })
            .unwrap_or_else(|e| panic!("cannot start the test PostgreSQL cluster in {}: {e}", dir.display()))
    })
}

/// Creates an empty database with a unique name on the shared test cluster and returns its URL.
pub fn fresh_database() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let cluster = test_cluster();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("test_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed));
    let output = Command::new(cluster.bindir().join("createdb"))
        .args(["-h"])
        .arg(cluster.socket_dir())
        .args(["-p", "5432", "-U", "crier", &name])
        .env_remove("PGPORT")
        .env_remove("PGHOST")
        .output()
        .unwrap_or_else(|e| panic!("cannot run createdb: {e}"));
    assert!(output.status.success(), "createdb {name} failed: {}", String::from_utf8_lossy(&output.stderr));
    cluster.database_url_for(&name)
}
