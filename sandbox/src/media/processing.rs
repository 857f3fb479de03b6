//! Asynchronous processing as the fakes play it: an upload is pending, then in progress, then
//! succeeded or failed, one step per status poll that comes no earlier than the wait the last
//! answer announced. Time is the sandbox's clock, so a test (or a client whose sleep advances a
//! manual clock) walks the states without waiting, and a client that polls too early sees the same
//! state again, as it would on the real platform.

use chrono::{DateTime, TimeDelta, Utc};

/// How processing is played (one knob set per platform, in the sandbox's configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessingConfig {
    /// The wait each status answer announces (X `check_after_secs`): 1 second by default.
    pub check_after_secs: u64,
    /// Status polls (each at least `check_after_secs` after the previous one) before processing
    /// ends: 2 by default (pending → in progress → done).
    pub polls_to_finish: u32,
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        ProcessingConfig { check_after_secs: 1, polls_to_finish: 2 }
    }
}

/// How processing will end, decided when it starts (limits checked then, injected faults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Succeed,
    Fail(String),
    /// Never ends: a stuck status (an injected fault).
    Stuck,
}

/// Where processing is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Pending,
    InProgress { percent: u8 },
    Succeeded,
    Failed(String),
}

impl Phase {
    pub(crate) fn is_done(&self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed(_))
    }
}

/// One upload's processing.
#[derive(Clone, Debug)]
pub(crate) struct Processing {
    ending: Ending,
    polls: u32,
    next_check_at: DateTime<Utc>,
    config: ProcessingConfig,
}

impl Processing {
    /// Processing that starts now.
    pub(crate) fn start(ending: Ending, config: &ProcessingConfig, now: DateTime<Utc>) -> Self {
        let next_check_at = now + TimeDelta::seconds(config.check_after_secs as i64);
        Processing { ending, polls: 0, next_check_at, config: config.clone() }
    }

    /// Already done (images: ready at finalize).
    pub(crate) fn done(ending: Ending, config: &ProcessingConfig, now: DateTime<Utc>) -> Self {
        let polls = if ending == Ending::Stuck { 0 } else { config.polls_to_finish.max(1) };
        Processing { ending, polls, next_check_at: now, config: config.clone() }
    }

    /// The phase without polling (what a post sees).
    pub(crate) fn phase(&self) -> Phase {
        if self.polls == 0 {
            return Phase::Pending;
        }
        let finish = self.config.polls_to_finish.max(1);
        match &self.ending {
            Ending::Succeed if self.polls >= finish => Phase::Succeeded,
            Ending::Fail(reason) if self.polls >= finish => Phase::Failed(reason.clone()),
            Ending::Stuck => Phase::InProgress { percent: 99 },
            _ => Phase::InProgress { percent: ((self.polls * 100) / finish).min(99) as u8 },
        }
    }

    /// A status poll: one step further when it comes at or after the announced time.
    pub(crate) fn poll(&mut self, now: DateTime<Utc>) -> Phase {
        if now >= self.next_check_at && !self.phase().is_done() {
            self.polls += 1;
            self.next_check_at = now + TimeDelta::seconds(self.config.check_after_secs as i64);
        }
        self.phase()
    }

    /// The wait to announce.
    pub(crate) fn check_after_secs(&self) -> u64 {
        self.config.check_after_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_advance_only_on_timely_polls() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let config = ProcessingConfig::default();
        let mut p = Processing::start(Ending::Succeed, &config, t0);
        assert_eq!(p.poll(t0), Phase::Pending, "too early");
        assert_eq!(p.poll(t0 + TimeDelta::seconds(1)), Phase::InProgress { percent: 50 });
        assert_eq!(p.poll(t0 + TimeDelta::seconds(1)), Phase::InProgress { percent: 50 }, "too early again");
        assert_eq!(p.poll(t0 + TimeDelta::seconds(2)), Phase::Succeeded);
        let mut failing = Processing::start(Ending::Fail("Unsupported video format".into()), &config, t0);
        failing.poll(t0 + TimeDelta::seconds(1));
        assert_eq!(failing.poll(t0 + TimeDelta::seconds(2)), Phase::Failed("Unsupported video format".into()));
        let mut stuck = Processing::start(Ending::Stuck, &config, t0);
        for s in 1..50 {
            assert_eq!(stuck.poll(t0 + TimeDelta::seconds(s)), Phase::InProgress { percent: 99 });
        }
        assert_eq!(Processing::done(Ending::Succeed, &config, t0).phase(), Phase::Succeeded);
    }
}
