//! One PostgreSQL cluster shared by every test process of a run, with a fresh database per test.
//!
//! Test binaries (and nextest's process-per-test) all call [`fresh_database`] or
//! [`fresh_database_from_template`]; the first starts the cluster, the others adopt it (the start
//! sequence is serialised by a file lock). The cluster is left running for the next test process;
//! `scripts/test` stops it at the end (`crier-embedded-pg stop <dir>`). It lives in
//! `$CRIER_TEST_PG_DIR`, by default `<temp dir>/crier-test-pg`: somewhere the `postgres` user can
//! reach when tests run as root.
//!
//! Templates: a test suite whose every test needs the same schema names a template database for
//! it ([`template_name`]) and takes [`fresh_database_from_template`], a copy of it. The first
//! caller on the cluster (in any test process) creates and prepares the template; every later one
//! only copies it, which is much cheaper than running every migration again per test. (Templates
//! need PostgreSQL 14 or later: `DROP DATABASE … WITH (FORCE)`, `pg_terminate_backend` with a
//! timeout.)

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::{EmbeddedPostgres, Options, PORT, SUPERUSER, quote_sql_literal};

/// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1), and a truncated template name
/// could make two different templates one.
const MAX_NAME: usize = 63;

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
    let cluster = test_cluster();
    let name = unique_name();
    createdb(cluster, &name, None);
    cluster.database_url_for(&name)
}

/// A template database name for [`fresh_database_from_template`]: `<label>_<hash>`, the hash
/// (64-bit FNV-1a, as hex) of `contents`, the bytes that decide what `prepare` puts in the
/// template (the migrations' checksums, say). Templates outlive a test run on a reused cluster,
/// which every branch and worktree using that cluster dir shares, so the name must change
/// whenever what the template should hold changes: a stale template is then left unused, never
/// copied.
///
/// `label` is lower-case letters, digits and underscores, at most 46 bytes (the name must fit
/// PostgreSQL's 63-byte identifiers).
pub fn template_name(label: &str, contents: &[u8]) -> String {
    // FNV-1a rather than std's hasher: the name must be the same in every test binary and
    // every Rust version, or processes of one run would each build their own template.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in contents {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let name = format!("{label}_{hash:016x}");
    check_name(&name);
    name
}

/// Creates a database with a unique name on the shared test cluster as a copy of the template
/// database `template` (`CREATE DATABASE … TEMPLATE …`) and returns its URL. Blocking: async
/// tests call it through `spawn_blocking`.
///
/// The first caller on the cluster, in whichever test process, creates `template` empty and
/// calls `prepare` with its URL to fill it (run the migrations, say); everyone else waits for
/// that (a file lock in the cluster dir, as for starting the cluster) and then only copies it.
/// `template` must name what `prepare` does ([`template_name`]): an existing, prepared
/// template of that name is taken as it is.
///
/// `prepare` should close every connection it opened before returning (PostgreSQL refuses to
/// copy a database anyone is connected to); any it leaves open are terminated. Then the template
/// is closed to connections (so no one can change it or block copies of it) and marked as a
/// template, which is also what marks it complete: a template left half-prepared by a `prepare`
/// that panicked, or a test process killed meanwhile, is dropped and prepared again by the next
/// caller.
pub fn fresh_database_from_template(template: &str, prepare: impl FnOnce(&str)) -> String {
    check_name(template);
    let cluster = test_cluster();
    ensure_template(cluster, template, prepare);
    let name = unique_name();
    createdb(cluster, &name, Some(template));
    cluster.database_url_for(&name)
}

/// A database name no other test (in any process) uses.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("test_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Template names go into SQL unquoted, so they are plain lower-case identifiers (which also
/// keeps PostgreSQL from folding or truncating them into another name).
fn check_name(name: &str) {
    assert!(
        !name.is_empty()
            && name.len() <= MAX_NAME
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit(),
        "template name {name:?} must be 1 to {MAX_NAME} lower-case letters, digits and underscores, not starting with a digit"
    );
}

/// Runs `createdb` on the cluster: `name` empty, or a copy of `template`.
fn createdb(cluster: &EmbeddedPostgres, name: &str, template: Option<&str>) {
    let mut cmd = cluster.command("createdb", false);
    cmd.arg("-h").arg(cluster.socket_dir()).args(["-p", &PORT.to_string(), "-U", SUPERUSER]);
    if let Some(template) = template {
        cmd.args(["-T", template]);
    }
    let output = cmd.args(["--", name]).output().unwrap_or_else(|e| panic!("cannot run createdb: {e}"));
    assert!(output.status.success(), "createdb {name} failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Runs SQL statements through psql on the cluster's `postgres` database, each on its own
/// (`CREATE`/`DROP DATABASE` refuse to run in a transaction), stopping at the first error;
/// returns the output, unaligned and without headers.
fn psql(cluster: &EmbeddedPostgres, statements: &[&str]) -> String {
    let mut cmd = cluster.command("psql", false);
    cmd.arg("-X").arg("-h").arg(cluster.socket_dir()).args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-d", "postgres"]);
    cmd.args(["-v", "ON_ERROR_STOP=1", "-tA"]);
    for statement in statements {
        cmd.args(["-c", statement]);
    }
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    assert!(output.status.success(), "psql {statements:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Whether `template` exists, and if so whether it is complete (marked as a template, the last
/// step of preparing it).
fn template_state(cluster: &EmbeddedPostgres, template: &str) -> Option<bool> {
    let found = psql(cluster, &[&format!("select datistemplate from pg_database where datname = {}", quote_sql_literal(template))]);
    match found.as_str() {
        "" => None,
        "t" => Some(true),
        _ => Some(false),
    }
}

/// Makes sure `template` exists and is prepared, preparing it if no one has.
fn ensure_template(cluster: &EmbeddedPostgres, template: &str, prepare: impl FnOnce(&str)) {
    // Templates this process has seen complete: they stay so, and this spares a psql per test.
    static READY: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mark_ready = || READY.lock().unwrap().push(template.to_owned());
    if READY.lock().unwrap().iter().any(|t| t == template) {
        return;
    }
    // Without the lock first: once the template exists every test process takes this path, and
    // copies need not wait on one another.
    if template_state(cluster, template) == Some(true) {
        mark_ready();
        return;
    }
    let _lock = lock_templates();
    match template_state(cluster, template) {
        // Someone prepared it while we waited for the lock.
        Some(true) => {}
        // Left half-prepared: start over. FORCE: the failed `prepare` may have left connections.
        Some(false) => {
            psql(cluster, &[&format!("drop database {template} with (force)")]);
            prepare_template(cluster, template, prepare);
        }
        None => prepare_template(cluster, template, prepare),
    }
    mark_ready();
}

/// Creates `template`, has `prepare` fill it, and closes it for copying. The caller holds the
/// template lock.
fn prepare_template(cluster: &EmbeddedPostgres, template: &str, prepare: impl FnOnce(&str)) {
    createdb(cluster, template, None);
    prepare(&cluster.database_url_for(template));
    psql(
        cluster,
        &[
            // First, so no new connection can come in while we end the old ones.
            &format!("alter database {template} with allow_connections false"),
            // `CREATE DATABASE … TEMPLATE` fails when anyone is connected to the template,
            // after waiting five seconds: a connection `prepare` leaked (a pool still closing)
            // would fail or slow every copy.
            &format!(
                "select count(pg_terminate_backend(pid, 10000)) from pg_stat_activity where datname = {}",
                quote_sql_literal(template)
            ),
            // The mark that it is complete: see `template_state`.
            &format!("alter database {template} with is_template true"),
        ],
    );
}

/// Takes the exclusive lock under which templates are created and prepared, released on drop.
/// flock locks belong to the open file, so this serialises threads of one process as well as
/// separate test processes.
fn lock_templates() -> File {
    let path = test_cluster_dir().join("templates.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    file.lock().unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    file
}
