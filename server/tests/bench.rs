//! `crier bench` in its short form: a few hundred posts through two `crier worker` processes and
//! through the baseline loop. It fails on broken function (a post lost, duplicated or failed, a
//! figure missing), never on speed: speed is measured by hand and written down in BENCHMARKS.md.

use std::process::Command;

use serde_json::Value;

#[test]
fn a_short_burst_through_worker_processes_and_the_baseline_publishes_every_post_once_and_reports_every_figure() {
    let output = Command::new(env!("CARGO_BIN_EXE_crier"))
        .env_remove("DATABASE_URL")
        .env_remove("CRIER_DATA_DIR")
        .args(["bench", "--posts", "300", "--accounts", "10", "--teams", "2", "--workers", "2", "--concurrency", "32", "--baseline"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "crier bench failed:\n{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();

    assert_eq!((report["scenario"].as_str(), report["posts"].as_u64(), report["workers"].as_u64()), (Some("burst"), Some(300), Some(2)));
    assert_eq!(report["in_process"], false);
    assert!(report["ratio"].as_f64().is_some_and(|r| r > 0.0), "{report}");
    for figures in [&report, &report["baseline"]] {
        assert_eq!(figures["published"], 300, "{figures}");
        assert_eq!((figures["failed"].as_u64(), figures["lost"].as_u64(), figures["duplicated"].as_u64()), (Some(0), Some(0), Some(0)));
        assert!(figures["seconds"].as_f64().is_some_and(|s| s > 0.0));
        assert!(figures["posts_per_sec"].as_f64().is_some_and(|p| p > 0.0));
        let lag = &figures["lag_ms"];
        let p = |k: &str| lag[k].as_f64().unwrap();
        assert!(p("p50") <= p("p95") && p("p95") <= p("p99") && p("p99") <= p("max"), "{lag}");
        assert!(figures["cpu_seconds"]["app"].as_f64().is_some_and(|c| c > 0.0), "{figures}");
        // The private cluster runs on this machine and loads pg_stat_statements.
        assert!(figures["cpu_seconds"]["postgres"].as_f64().is_some_and(|c| c > 0.0), "{figures}");
        assert!(figures["statements_per_delivery"].as_f64().is_some_and(|s| s > 0.0), "{figures}");
        // Every delivery writes its row changes to the WAL.
        assert!(figures["wal_bytes_per_delivery"].as_f64().is_some_and(|w| w > 100.0), "{figures}");
    }
    // The baseline sends a claim and an update per delivery; Crier batches both.
    assert!(report["baseline"]["statements_per_delivery"].as_f64().is_some_and(|s| s >= 2.0), "{report}");
    assert!(report["statements_per_delivery"].as_f64() < report["baseline"]["statements_per_delivery"].as_f64(), "{report}");
    let rss = report["peak_rss_mb"].as_array().unwrap();
    assert_eq!(rss.len(), 2, "one figure per worker process");
    assert!(rss.iter().all(|mb| mb.as_f64().is_some_and(|mb| mb > 1.0)), "{rss:?}");
}

#[test]
fn a_burst_larger_than_x_allows_is_refused_with_the_fix() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_crier")).args(["bench", "--posts", "500", "--accounts", "4", "--teams", "2"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("X allows 100 per account per 15 minutes: use --accounts 5 or more"), "{stderr}");
}

#[test]
fn the_media_scenario_uploads_a_photo_per_post_and_a_video_and_reports_their_memory() {
    let output = Command::new(env!("CARGO_BIN_EXE_crier"))
        .env_remove("DATABASE_URL")
        .env_remove("CRIER_DATA_DIR")
        .args(["bench", "--scenario", "media", "--posts", "40", "--accounts", "10", "--teams", "2", "--workers", "1", "--video-mb", "20"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "crier bench failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((report["scenario"].as_str(), report["published"].as_u64()), (Some("media"), Some(40)), "{report}");
    assert_eq!((report["failed"].as_u64(), report["lost"].as_u64(), report["duplicated"].as_u64()), (Some(0), Some(0), Some(0)));
    let video = &report["video"];
    assert_eq!(video["megabytes"], 20.0, "{report}");
    assert!(video["upload_seconds"].as_f64().is_some_and(|s| s > 0.0) && video["publish_seconds"].as_f64().is_some_and(|s| s > 0.0));
    let memory = &video["peak_rss_mb"];
    assert!(memory["bench"].as_f64().is_some_and(|mb| mb > 1.0) && memory["sandbox"].as_f64().is_some_and(|mb| mb > 1.0), "{memory}");
    assert_eq!(memory["workers"].as_array().map(Vec::len), Some(1), "one figure per worker process: {memory}");
}

#[test]
fn the_mixed_scenario_measures_the_text_posts_lag_beside_photo_posts_and_a_video() {
    let output = Command::new(env!("CARGO_BIN_EXE_crier"))
        .env_remove("DATABASE_URL")
        .env_remove("CRIER_DATA_DIR")
        .args([
            "bench",
            "--scenario",
            "mixed",
            "--posts",
            "20",
            "--accounts",
            "10",
            "--teams",
            "2",
            "--spread-secs",
            "4",
            "--video-mb",
            "10",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "crier bench failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    // 20 text posts, 20 photo posts beside them, and the video.
    assert_eq!((report["scenario"].as_str(), report["published"].as_u64()), (Some("mixed"), Some(41)), "{report}");
    assert_eq!((report["failed"].as_u64(), report["lost"].as_u64(), report["duplicated"].as_u64()), (Some(0), Some(0), Some(0)));
    assert!(report["lag_ms"]["p99"].as_f64().is_some(), "{report}");
    assert_eq!(report["video"]["megabytes"], 10.0, "{report}");
}

#[test]
fn old_history_is_pruned_beside_a_burst_and_reported() {
    let output = Command::new(env!("CARGO_BIN_EXE_crier"))
        .env_remove("DATABASE_URL")
        .env_remove("CRIER_DATA_DIR")
        .args(["bench", "--posts", "100", "--accounts", "10", "--teams", "2", "--prune-rows", "12000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "crier bench failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((report["published"].as_u64(), report["lost"].as_u64(), report["duplicated"].as_u64()), (Some(100), Some(0), Some(0)));
    // The workers' housekeeping pass pruned every old row while the posts went out.
    let pruning = &report["pruning"];
    assert_eq!(pruning["rows"].as_u64(), Some(24_000), "{report}");
    assert!(pruning["seconds"].as_f64().is_some_and(|s| s > 0.0), "{pruning}");
}

#[test]
fn the_month_scenario_writes_its_month_times_the_pages_from_two_web_processes_and_publishes_its_window() {
    let output = Command::new(env!("CARGO_BIN_EXE_crier"))
        .env_remove("DATABASE_URL")
        .env_remove("CRIER_DATA_DIR")
        .args([
            "bench",
            "--scenario",
            "month",
            "--posts",
            "3000",
            "--history",
            "2000",
            "--accounts",
            "40",
            "--teams",
            "8",
            "--live-accounts",
            "10",
            "--window-posts",
            "50",
            "--window-secs",
            "3",
            "--page-requests",
            "40",
            "--web",
            "2",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "crier bench failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    // The window's posts go out once each; the rest of the month stays queued.
    assert_eq!(
        (report["scenario"].as_str(), report["posts"].as_u64(), report["published"].as_u64()),
        (Some("month"), Some(3000), Some(50))
    );
    assert_eq!((report["failed"].as_u64(), report["lost"].as_u64(), report["duplicated"].as_u64()), (Some(0), Some(0), Some(0)));
    let month = &report["month"];
    assert_eq!((month["teams"].as_u64(), month["accounts"].as_u64()), (Some(8), Some(40)), "{month}");
    // Every queued post but the window's, and the history, with its attempts and audit records.
    let written = &month["written"];
    assert_eq!((written["posts"].as_i64(), written["deliveries"].as_i64()), (Some(2950 + 2000), Some(2950 + 2000)), "{written}");
    assert_eq!(written["attempts"].as_i64(), Some(2000), "{written}");
    assert!(written["audit_events"].as_i64().is_some_and(|n| n >= 2950 + 2000), "{written}");
    // A tenth of each to the first team.
    assert_eq!(month["big_team_posts"].as_u64(), Some(295 + 200), "{month}");
    let pages = month["pages"].as_array().unwrap();
    assert_eq!(pages.iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["dashboard", "month calendar", "deep list page"]);
    for page in pages {
        // Dealt between two `crier serve --no-worker` processes.
        assert_eq!(
            (page["requests"].as_u64(), page["connections"].as_u64(), page["servers"].as_u64()),
            (Some(40), Some(32), Some(2)),
            "{page}"
        );
        assert!(page["latency_ms"]["p99"].as_f64().is_some_and(|ms| ms > 0.0), "{page}");
    }
    assert!(month["disk"]["bytes_per_post"].as_f64().is_some_and(|b| b > 100.0), "{month}");
    // The claim ran and its scan reads the due index, not the table.
    let claim = &month["claim"];
    assert!(claim["calls"].as_i64().is_some_and(|n| n > 0), "{claim}");
    let plan: Vec<&str> = claim["plan"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(plan.iter().any(|l| l.contains("Index Scan using delivery_due_idx on delivery")), "{plan:?}");
    assert!(!plan.iter().any(|l| l.contains("Seq Scan on delivery")), "{plan:?}");
    assert!(!month["slowest"].as_array().unwrap().is_empty(), "{month}");
}
