//! The engagement the fakes report for a post: synthetic, deterministic and growing with the
//! post's age, so a test knows the numbers a platform will give for any post at any moment
//! (media-and-metrics.md §5, "Metrics happy path").
//!
//! Each post's numbers come from its platform id alone (hashed with FNV-1a, the same on every run
//! and machine): how far it reaches when it has run its course, and what share of that reach
//! likes, reposts, replies, quotes, bookmarks and clicks. The share of that final reach a post
//! has at `age` is `1 − e^(−age / 24 h)`: most of it in the first day, all but 1% after 4.6 days,
//! like a real post's curve. Counts are whole and never go down as a post ages.

use chrono::TimeDelta;

/// One post's counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Engagement {
    /// Times it was shown.
    pub impressions: u64,
    /// Likes (X), reactions (Facebook, LinkedIn).
    pub likes: u64,
    /// Reposts (X retweets, LinkedIn and Facebook shares).
    pub reposts: u64,
    /// Replies and comments.
    pub replies: u64,
    /// Quote posts (X only; 0 elsewhere).
    pub quotes: u64,
    /// Bookmarks (X only).
    pub bookmarks: u64,
    /// Clicks on the post's link.
    pub link_clicks: u64,
    /// Clicks on the author's name or picture.
    pub profile_clicks: u64,
}

impl Engagement {
    /// Everything someone did with the post (what X calls `engagements`).
    pub fn engagements(&self) -> u64 {
        self.likes + self.reposts + self.replies + self.quotes + self.bookmarks + self.link_clicks + self.profile_clicks
    }
}

/// What the fakes report for the post with platform id `post_id` when it is `age` old (nothing
/// before it exists).
pub fn engagement(post_id: &str, age: TimeDelta) -> Engagement {
    if age <= TimeDelta::zero() {
        return Engagement::default();
    }
    let mut seed = fnv1a(post_id.as_bytes());
    let mut next = |range: u64| {
        // xorshift64*: each draw its own bits of the seed.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % range
    };
    let reach = 200.0 + next(9_800) as f64;
    // Per thousand of the reach.
    let (likes, reposts, replies, quotes, bookmarks, links, profiles) =
        (10 + next(70), 1 + next(15), 1 + next(10), next(4), next(8), 2 + next(30), 1 + next(12));
    let grown = 1.0 - (-(age.num_seconds() as f64) / 86_400.0).exp();
    let count = |per_mille: u64| (reach * grown * per_mille as f64 / 1000.0).floor() as u64;
    Engagement {
        impressions: (reach * grown).floor() as u64,
        likes: count(likes),
        reposts: count(reposts),
        replies: count(replies),
        quotes: count(quotes),
        bookmarks: count(bookmarks),
        link_clicks: count(links),
        profile_clicks: count(profiles),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posts_numbers_are_its_own_the_same_every_time_and_only_grow() {
        let day = TimeDelta::days(1);
        assert_eq!(engagement("1800000000000000001", day), engagement("1800000000000000001", day));
        assert_ne!(engagement("1800000000000000001", day), engagement("1800000000000000002", day));
        assert_eq!(engagement("1800000000000000001", TimeDelta::zero()), Engagement::default());
        let mut before = Engagement::default();
        for hours in [1, 6, 24, 72, 168, 720] {
            let now = engagement("urn:li:share:7", TimeDelta::hours(hours));
            assert!(now.impressions >= before.impressions && now.likes >= before.likes && now.engagements() >= before.engagements());
            assert!(now.likes <= now.impressions && now.engagements() <= now.impressions, "{now:?}");
            before = now;
        }
        assert!(before.impressions >= 200, "a month old post has reached at least its floor: {before:?}");
        assert!(engagement("urn:li:share:7", TimeDelta::hours(1)).impressions < before.impressions / 10, "an hour is a small part of it");
    }
}
