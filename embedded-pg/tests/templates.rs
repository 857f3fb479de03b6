//! Template databases on the shared test cluster: prepared once however many tests ask at once,
//! copied with what `prepare` put in them, and prepared again when an earlier `prepare` failed.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crier_embedded_pg::test_cluster::{fresh_database_from_template, template_name, test_cluster};

/// A template name no other test or run uses: these tests are about a template's first use.
fn new_template(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    template_name("epg_test", format!("{test} {} {nanos}", std::process::id()).as_bytes())
}

/// Runs SQL through psql on `url`, returning trimmed unaligned output.
fn psql(url: &str, sql: &str) -> String {
    let out = Command::new(test_cluster().bindir().join("psql"))
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-tA", "-d", url, "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `datistemplate` and `datallowconn` of `database`.
fn flags(database: &str) -> String {
    psql(
        &test_cluster().database_url_for("postgres"),
        &format!("select datistemplate, datallowconn from pg_database where datname = '{database}'"),
    )
}

#[test]
fn template_names_follow_their_contents() {
    assert_eq!(template_name("app", b"v1"), template_name("app", b"v1"));
    assert_ne!(template_name("app", b"v1"), template_name("app", b"v2"));
    assert!(template_name("app", b"v1").starts_with("app_"));
    assert!(template_name("app", b"v1").len() <= 63);
}

#[test]
#[should_panic(expected = "lower-case letters")]
fn template_names_are_plain_identifiers() {
    template_name("App; drop database x", b"");
}

#[test]
fn concurrent_first_uses_prepare_once_and_copy_what_it_made() {
    let template = new_template("concurrent");
    let prepared = AtomicUsize::new(0);
    let urls: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    fresh_database_from_template(&template, |url| {
                        prepared.fetch_add(1, Ordering::SeqCst);
                        psql(url, "create table greeting (text text); insert into greeting values ('hello')");
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(prepared.load(Ordering::SeqCst), 1, "one thread prepares, the others wait and copy");
    for url in &urls {
        assert_eq!(psql(url, "select text from greeting"), "hello", "{url}");
    }
    // A copy is a database of its own.
    psql(&urls[0], "insert into greeting values ('only here')");
    assert_eq!(psql(&urls[1], "select count(*) from greeting"), "1");
    // Complete, and closed so that no connection can hold up the next copy.
    assert_eq!(flags(&template), "t|f");
}

#[test]
fn a_template_whose_prepare_failed_is_prepared_again() {
    let template = new_template("failed");
    let failed = std::panic::catch_unwind(|| {
        fresh_database_from_template(&template, |url| {
            psql(url, "create table half (x int)");
            panic!("the migrations failed");
        })
    });
    assert!(failed.is_err());
    assert_eq!(flags(&template), "f|t", "left as it was, not marked complete");

    let url = fresh_database_from_template(&template, |url| {
        psql(url, "create table whole (x int)");
    });
    assert_eq!(psql(&url, "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'"), "whole");
}

#[test]
fn connections_prepare_leaves_open_do_not_hold_up_copies() {
    let template = new_template("leaked");
    let mut leaked = None;
    let started = Instant::now();
    let url = fresh_database_from_template(&template, |url| {
        psql(url, "create table t (x int)");
        // A connection still open when `prepare` returns (a pool that has not finished closing).
        leaked = Some(
            Command::new(test_cluster().bindir().join("psql"))
                .args(["-X", "-d", url, "-c", "select pg_sleep(60)"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while psql(url, "select count(*) from pg_stat_activity where query like 'select pg_sleep%'") == "0" {
            assert!(Instant::now() < deadline, "the leaked connection never showed up");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    assert_eq!(psql(&url, "select count(*) from t"), "0");
    // PostgreSQL would have waited 5 s for the session and then refused to copy.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let mut leaked = leaked.unwrap();
    let _ = leaked.kill();
    let _ = leaked.wait();
}
