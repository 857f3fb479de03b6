//! Integration tests against the real PostgreSQL installed on the machine.
//! Each test has its own data dir under /tmp, and a guard that stops its
//! server even when the test fails.

use std::fs;
use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crier_embedded_pg::{EmbeddedPostgres, Options, Released, database_url_for_data_dir, stop_data_dir};
use tempfile::TempDir;

/// A fresh data dir's parent, traversable by the `postgres` user when the
/// tests run as root.
fn fresh_dir() -> TempDir {
    let dir = tempfile::Builder::new().prefix("crier-epg-").tempdir_in("/tmp").unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn fast() -> Options {
    Options { fsync: false, ..Options::default() }
}

/// Stops the server on drop so that failing tests do not leak servers.
/// Declare it after the TempDir so it drops first.
struct Guard(EmbeddedPostgres);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(e) = self.0.stop() {
            eprintln!("guard: stopping the server failed: {e}");
        }
    }
}

impl Deref for Guard {
    type Target = EmbeddedPostgres;
    fn deref(&self) -> &EmbeddedPostgres {
        &self.0
    }
}

fn start(data_dir: &Path) -> Guard {
    Guard(EmbeddedPostgres::start(data_dir, &fast()).unwrap_or_else(|e| panic!("start: {e}")))
}

/// Runs SQL through psql on `url`, returning trimmed unaligned output.
fn psql(pg: &EmbeddedPostgres, url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(pg.bindir().join("psql")).args(["-X", "-v", "ON_ERROR_STOP=1", "-tA", "-d", url, "-c", sql]).output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn postmaster_pid(data_dir: &Path) -> i32 {
    let text = fs::read_to_string(data_dir.join("pg/postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// Gone or a zombie (the killed postmaster may not be reaped by its parent).
fn process_gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 1..].trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
    }
}

fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !process_gone(pid) {
        assert!(Instant::now() < deadline, "pid {pid} did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn first_start_initialises_cluster_and_url_connects() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let pg = start(&data);
    assert!(!pg.adopted());
    assert!(data.join("pg/PG_VERSION").is_file());
    assert_eq!(pg.socket_dir(), data.join("run"));
    assert!(data.join("run/.s.PGSQL.5432").exists());
    let mode = fs::metadata(pg.socket_dir()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);

    let url = pg.database_url();
    let encoded_socket = data.join("run").display().to_string().replace('/', "%2F");
    assert_eq!(url, format!("postgres://crier@localhost:5432/crier?host={encoded_socket}"));
    assert_eq!(database_url_for_data_dir(&data).unwrap(), url);
    assert_eq!(psql(&pg, &url, "SELECT 1").unwrap(), "1");
    assert_eq!(psql(&pg, &url, "SELECT current_database() || ' ' || current_user").unwrap(), "crier crier");
    // No TCP listener.
    assert_eq!(psql(&pg, &url, "SHOW listen_addresses").unwrap(), "");

    // database_url_for reaches other databases on the same server.
    psql(&pg, &url, "CREATE DATABASE other").unwrap();
    let other = pg.database_url_for("other");
    assert_eq!(psql(&pg, &other, "SELECT current_database()").unwrap(), "other");
}

#[test]
fn partially_initialised_cluster_is_redone() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    // What an interrupted initdb leaves: a pg dir with files but no PG_VERSION.
    fs::create_dir_all(data.join("pg/base")).unwrap();
    fs::write(data.join("pg/postgresql.conf"), "garbage = \n").unwrap();
    let pg = start(&data);
    assert!(data.join("pg/PG_VERSION").is_file());
    assert_eq!(psql(&pg, &pg.database_url(), "SELECT 1").unwrap(), "1");
}

#[test]
fn restart_reuses_cluster_and_keeps_data() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let pg = start(&data);
    let url = pg.database_url();
    psql(&pg, &url, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)").unwrap();
    pg.stop().unwrap();
    assert!(!data.join("pg/postmaster.pid").exists());
    assert!(psql(&pg, &url, "SELECT 1").is_err());
    // Stopping a stopped server is fine.
    pg.stop().unwrap();
    stop_data_dir(&data).unwrap();

    let pg2 = start(&data);
    assert!(!pg2.adopted());
    assert_eq!(pg2.database_url(), url);
    assert_eq!(psql(&pg2, &url, "SELECT v FROM kept").unwrap(), "42");
}

#[test]
fn start_recovers_after_crash_with_stale_postmaster_pid() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let pg = start(&data);
    let url = pg.database_url();
    psql(&pg, &url, "CREATE TABLE survived (v int); INSERT INTO survived VALUES (7)").unwrap();
    // A separate statement: psql -c runs a multi-statement string as one
    // transaction, and with synchronous_commit=off only a checkpoint after
    // the commit guarantees the data reaches the WAL before the kill.
    psql(&pg, &url, "CHECKPOINT").unwrap();
    let old_pid = postmaster_pid(&data);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(old_pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_gone(old_pid);
    assert!(data.join("pg/postmaster.pid").exists(), "stale pid file expected");

    let pg2 = start(&data);
    assert!(!pg2.adopted());
    assert_ne!(postmaster_pid(&data), old_pid);
    assert_eq!(psql(&pg2, &url, "SELECT v FROM survived").unwrap(), "7");
}

#[test]
fn start_recovers_when_postmaster_pid_names_a_live_non_postgres_process() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let pg = start(&data);
    pg.stop().unwrap();

    // Our own pid: alive, but not postgres. Postgres itself would take it
    // for a running server, and pg_ctl stop would signal us.
    let me = std::process::id();
    let pid_file = data.join("pg/postmaster.pid");
    fs::write(&pid_file, format!("{me}\n{}\n", data.join("pg").display())).unwrap();
    fs::write(data.join("run/.s.PGSQL.5432.lock"), format!("{me}\n")).unwrap();
    if is_root() {
        // As it would be after a crash: owned by the server user.
        Command::new("chown").args(["postgres:"]).arg(&pid_file).arg(data.join("run/.s.PGSQL.5432.lock")).status().unwrap();
    }
    // Must not signal this process, and is not an error.
    stop_data_dir(&data).unwrap();
    fs::write(&pid_file, format!("{me}\n")).unwrap();

    let pg2 = start(&data);
    assert!(!pg2.adopted());
    assert_ne!(postmaster_pid(&data), me as i32);
    assert_eq!(psql(&pg2, &pg2.database_url(), "SELECT 1").unwrap(), "1");
}

#[test]
fn second_start_adopts_the_running_server() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let first = start(&data);
    let pid = postmaster_pid(&data);

    let second = start(&data);
    assert!(second.adopted());
    assert_eq!(postmaster_pid(&data), pid, "a second server was started");
    assert!(!process_gone(pid));
    assert_eq!(second.database_url(), first.database_url());
    assert_eq!(psql(&second, &second.database_url(), "SELECT 1").unwrap(), "1");

    // Stopping through the adopter stops the one server.
    second.stop().unwrap();
    wait_gone(pid);
    first.stop().unwrap();
}

#[test]
fn concurrent_starts_on_one_dir_both_succeed() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| EmbeddedPostgres::start(&data, &fast()).map(Guard));
        let b = s.spawn(|| EmbeddedPostgres::start(&data, &fast()).map(Guard));
        (a.join().unwrap(), b.join().unwrap())
    });
    let a = a.unwrap_or_else(|e| panic!("first start: {e}"));
    let b = b.unwrap_or_else(|e| panic!("second start: {e}"));
    assert_eq!([a.adopted(), b.adopted()].iter().filter(|x| **x).count(), 1, "exactly one of them should have adopted the other's server");
    assert_eq!(a.database_url(), b.database_url());
    assert_eq!(psql(&a, &a.database_url(), "SELECT 1").unwrap(), "1");
    assert_eq!(psql(&b, &b.database_url(), "SELECT 1").unwrap(), "1");
}

#[test]
fn unreachable_data_dir_as_root_moves_the_cluster_where_postgres_can_reach_it() {
    if !is_root() {
        eprintln!("skipping unreachable_data_dir_as_root_moves_the_cluster_where_postgres_can_reach_it: not running as root");
        return;
    }
    let tmp = fresh_dir();
    let closed = tmp.path().join("closed");
    fs::create_dir(&closed).unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o700)).unwrap();
    let data = closed.join("inner/crier");

    let pg = start(&data);
    let link = fs::read_link(data.join("pg")).expect("the data dir links to the relocated cluster");
    assert!(link.starts_with(crier_embedded_pg::RELOCATED_CLUSTERS), "{}", link.display());
    assert!(pg.socket_dir().starts_with(crier_embedded_pg::RELOCATED_CLUSTERS));
    psql(&pg, &pg.database_url(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)").unwrap();
    pg.stop().unwrap();

    // The next start finds the same cluster, and stop_data_dir and the URL agree with start.
    let again = start(&data);
    assert_eq!(again.socket_dir(), pg.socket_dir());
    assert_eq!(crier_embedded_pg::database_url_for_data_dir(&data).unwrap(), again.database_url());
    assert_eq!(psql(&again, &again.database_url(), "SELECT x FROM kept").unwrap(), "7");
    stop_data_dir(&data).unwrap();
    let cluster_root = link.parent().unwrap().to_path_buf();
    assert!(!link.join("postmaster.pid").exists(), "stopped");
    fs::remove_dir_all(cluster_root).unwrap();
}

#[test]
fn stop_on_a_dir_without_server_is_ok() {
    let tmp = fresh_dir();
    stop_data_dir(&tmp.path().join("never-started")).unwrap();
    stop_data_dir(tmp.path()).unwrap();
}

#[test]
fn cli_start_url_stop() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let bin = env!("CARGO_BIN_EXE_crier-embedded-pg");
    let run = |args: &[&str]| {
        let out = Command::new(bin).args(args).arg(&data).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let url = run(&["start", "--no-fsync"]);
    // Guard in case an assertion below fails.
    struct StopDir(PathBuf);
    impl Drop for StopDir {
        fn drop(&mut self) {
            let _ = stop_data_dir(&self.0);
        }
    }
    let _stop = StopDir(data.clone());
    let pid = postmaster_pid(&data);
    assert!(!process_gone(pid), "server should outlive the CLI");
    assert_eq!(run(&["url"]), url);
    assert_eq!(run(&["start"]), url); // adopts
    assert_eq!(postmaster_pid(&data), pid);
    run(&["stop"]);
    wait_gone(pid);
    run(&["stop"]);

    let bad = Command::new(bin).arg("frobnicate").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Stops whatever server runs in a data dir on drop (for tests whose handles are consumed by
/// `release`). Declare it after the TempDir so it drops first.
struct StopOnDrop(PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Err(e) = stop_data_dir(&self.0) {
            eprintln!("guard: stopping the server failed: {e}");
        }
    }
}

/// An idle `psql` session (it waits for commands on a pipe that stays open) that stays
/// connected until it is killed, named `application_name`.
struct Client(std::process::Child);

impl Client {
    fn connect(pg: &EmbeddedPostgres, application_name: &str) -> Client {
        let url = format!("{}&application_name={application_name}", pg.database_url());
        let child = Command::new(pg.bindir().join("psql"))
            .args(["-X", "-q", "-d", &url])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let sql = format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application_name}'");
        while psql(pg, &pg.database_url(), &sql).unwrap() != "1" {
            assert!(Instant::now() < deadline, "the client {application_name} never connected");
            std::thread::sleep(Duration::from_millis(20));
        }
        Client(child)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn release_by_an_adopter_leaves_the_server_to_its_starter() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let _stop = StopOnDrop(data.clone());
    let starter = EmbeddedPostgres::start(&data, &fast()).unwrap();
    let pid = postmaster_pid(&data);
    let adopter = EmbeddedPostgres::start(&data, &fast()).unwrap();
    assert!(adopter.adopted());

    assert_eq!(adopter.release(None).unwrap(), Released::LeftToItsStarter);
    assert_eq!(psql(&starter, &starter.database_url(), "SELECT 1").unwrap(), "1", "still running for its starter");
    assert_eq!(starter.release(None).unwrap(), Released::Stopped);
    wait_gone(pid);
}

#[test]
fn a_starter_that_leaves_first_hands_the_server_to_the_last_user() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let _stop = StopOnDrop(data.clone());
    let starter = EmbeddedPostgres::start(&data, &fast()).unwrap();
    let pid = postmaster_pid(&data);
    let adopter = EmbeddedPostgres::start(&data, &fast()).unwrap();

    assert_eq!(starter.release(None).unwrap(), Released::StillInUse { crier_processes: true, other_clients: 0 });
    assert_eq!(psql(&adopter, &adopter.database_url(), "SELECT 1").unwrap(), "1", "still running for the adopter");
    assert_eq!(adopter.release(None).unwrap(), Released::Stopped, "the last user stops what was handed over");
    wait_gone(pid);

    // A fresh start is its starter's again: the hand-over does not outlive the server.
    let starter = EmbeddedPostgres::start(&data, &fast()).unwrap();
    assert!(!starter.adopted());
    let adopter = EmbeddedPostgres::start(&data, &fast()).unwrap();
    assert_eq!(adopter.release(None).unwrap(), Released::LeftToItsStarter);
    assert_eq!(starter.release(None).unwrap(), Released::Stopped);
}

#[test]
fn release_leaves_the_server_to_other_clients_but_not_to_the_process_own() {
    let tmp = fresh_dir();
    let data = tmp.path().join("crier");
    let _stop = StopOnDrop(data.clone());
    let starter = EmbeddedPostgres::start(&data, &fast()).unwrap();
    let pid = postmaster_pid(&data);
    let _own = Client::connect(&starter, "crier_self");
    let other = Client::connect(&starter, "someone_else");

    assert_eq!(starter.release(Some("crier_self")).unwrap(), Released::StillInUse { crier_processes: false, other_clients: 1 });
    drop(other);

    // Handed over: the next Crier process to use it stops it when it leaves, its own
    // connections not counting.
    let next = EmbeddedPostgres::start(&data, &fast()).unwrap();
    assert!(next.adopted());
    assert_eq!(psql(&next, &next.database_url(), "SELECT 1").unwrap(), "1");
    let deadline = Instant::now() + Duration::from_secs(30);
    let others = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'someone_else'";
    while psql(&next, &next.database_url(), others).unwrap() != "0" {
        assert!(Instant::now() < deadline, "the killed client's backend never exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(next.release(Some("crier_self")).unwrap(), Released::Stopped);
    wait_gone(pid);
}
