//! What the benchmark reads about processes: CPU time and peak memory from `/proc`, PostgreSQL's
//! CPU time (the postmaster and its children), and the lag percentiles.

use std::path::Path;

use serde::Serialize;

/// The kernel reports `/proc/<pid>/stat` times in clock ticks of `USER_HZ`, which the Linux ABI
/// fixes at 100 on every architecture (it is not the kernel's internal HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU times of one process from `/proc/<pid>/stat`, in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuTimes {
    /// User plus system time of the process itself.
    pub own: f64,
    /// User plus system time of its children that have exited and been waited for.
    pub reaped_children: f64,
    /// The parent's pid.
    pub ppid: u32,
}

/// Reads `/proc/<pid>/stat`; `None` when the process is gone or not on this machine.
pub fn cpu_times(pid: u32) -> Option<CpuTimes> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).map(|t| t / TICKS_PER_SECOND);
    // After the name: state, ppid, ..., utime (index 11), stime, cutime, cstime.
    Some(CpuTimes { own: tick(11)? + tick(12)?, reaped_children: tick(13)? + tick(14)?, ppid: fields.get(1)?.parse().ok()? })
}

/// The process's peak resident set size (`VmHWM`) in MB.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds PostgreSQL has used so far: the postmaster, its live children (backends,
/// checkpointer, WAL writer...) and the children that already exited. `None` when the server is
/// not a process on this machine.
pub fn postgres_cpu(postmaster: u32) -> Option<f64> {
    let master = cpu_times(postmaster)?;
    let mut total = master.own + master.reaped_children;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Some(child) = cpu_times(pid).filter(|c| c.ppid == postmaster) {
            total += child.own;
        }
    }
    Some(total)
}

/// The postmaster of the backend serving `backend_pid`, if that backend runs on this machine.
pub fn postmaster_of(backend_pid: u32) -> Option<u32> {
    Path::new(&format!("/proc/{backend_pid}")).exists().then(|| cpu_times(backend_pid).map(|c| c.ppid)).flatten()
}

/// Lag percentiles in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lag {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Lag {
    /// Nearest-rank percentiles of `samples` (milliseconds); all zero when there are none.
    pub fn of(mut samples: Vec<f64>) -> Lag {
        if samples.is_empty() {
            return Lag::default();
        }
        samples.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            round1(samples[index.clamp(1, samples.len()) - 1])
        };
        Lag { p50: rank(50.0), p95: rank(95.0), p99: rank(99.0), max: round1(samples[samples.len() - 1]) }
    }
}

/// Rounds to one decimal, for a readable JSON line.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Rounds to three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let lag = Lag::of((1..=100).map(f64::from).collect());
        assert_eq!(lag, Lag { p50: 50.0, p95: 95.0, p99: 99.0, max: 100.0 });
        let one = Lag::of(vec![7.25]);
        assert_eq!(one, Lag { p50: 7.3, p95: 7.3, p99: 7.3, max: 7.3 });
        assert_eq!(Lag::of(Vec::new()), Lag::default());
    }

    #[test]
    fn this_process_has_cpu_times_and_a_peak_rss() {
        // Burn a little CPU so the reading cannot be zero by accident of timing.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert_ne!(x, 1);
        let me = cpu_times(std::process::id()).expect("our own /proc entry");
        assert!(me.own > 0.0, "{me:?}");
        assert!(me.ppid > 0);
        assert!(peak_rss_mb(std::process::id()).unwrap() > 1.0);
        assert!(cpu_times(u32::MAX).is_none());
    }
}
