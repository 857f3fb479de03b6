//! twitter-text's conformance suite (`tests/data/twitter-text-validate.yml`, see the README there),
//! run against the X counter section by section, with the configuration twitter-text's own runners
//! use for each (`js/test/conformance.html`).
//!
//! Covered: every case of the three weighted-length sections (all their fields), of `tweets`
//! (validity under the v1 rules, as twitter-text runs it), and of `urls_without_protocol` (each
//! text must be one URL, weighing 23).
//! Not covered, on purpose: `usernames`, `lists` and `hashtags` test validators of other entities,
//! and `urls` tests `isValidUrl`, a strict RFC 3986 validator (userinfo, IP addresses, ports) that
//! twitter-text's length count never calls; the extractor the count uses is a different matcher.

use std::collections::BTreeMap;

use crier_platform::Platform;
use crier_text::{XConfig, XParse, check, x_parse, x_weighted_length};
use yaml_rust2::{Yaml, YamlLoader};

const SUITE: &str = include_str!("data/twitter-text-validate.yml");

/// The cases of one section: (description, text, expected).
fn section(name: &str) -> Vec<(String, String, Yaml)> {
    let documents = YamlLoader::load_from_str(SUITE).expect("the suite is valid YAML");
    let cases = documents[0]["tests"][name].as_vec().unwrap_or_else(|| panic!("section {name} is missing"));
    cases
        .iter()
        .map(|case| {
            let description = case["description"].as_str().expect("description").to_owned();
            let text = case["text"].as_str().expect("text").to_owned();
            (description, text, case["expected"].clone())
        })
        .collect()
}

fn field(expected: &Yaml, name: &str) -> usize {
    expected[name].as_i64().and_then(|n| usize::try_from(n).ok()).unwrap_or_else(|| panic!("{name} is missing"))
}

/// Runs a weighted-length section: every field parseTweet reports must match.
fn weighted_section(name: &str, config: &XConfig, cases_in_suite: usize) {
    let cases = section(name);
    assert_eq!(cases.len(), cases_in_suite, "{name}: the suite changed; review the new cases");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(description, text, expected)| {
            assert_eq!(field(expected, "displayRangeStart"), 0);
            assert_eq!(field(expected, "validRangeStart"), 0);
            let want = XParse {
                weighted_length: field(expected, "weightedLength"),
                valid: expected["valid"].as_bool().expect("valid"),
                permillage: field(expected, "permillage"),
                valid_range_end: field(expected, "validRangeEnd"),
                display_range_end: field(expected, "displayRangeEnd"),
            };
            let got = x_parse(text, config);
            (got != want).then(|| format!("{description}\n    want {want:?}\n    got  {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{name}: {} of {} failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    println!("{name}: {} passed", cases.len());
}

#[test]
fn weighted_tweets_counter_v2() {
    weighted_section("WeightedTweetsCounterTest", &XConfig::V2, 20);
}

#[test]
fn weighted_tweets_with_discounted_emoji_v3() {
    weighted_section("WeightedTweetsWithDiscountedEmojiCounterTest", &XConfig::V3, 22);
}

#[test]
fn unicode_directional_markers_v3() {
    weighted_section("UnicodeDirectionalMarkerCounterTest", &XConfig::V3, 2);
}

/// The public API agrees with parseTweet on every v3 case: `x_weighted_length` is its length,
/// and `check` its validity (none of these texts is blank).
#[test]
fn check_agrees_with_the_v3_sections() {
    for name in ["WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest"] {
        for (description, text, expected) in section(name) {
            let result = check(Platform::X, &text);
            assert_eq!(x_weighted_length(&text), field(&expected, "weightedLength"), "{description}");
            assert_eq!(result.length, field(&expected, "weightedLength"), "{description}");
            assert_eq!(result.valid, expected["valid"].as_bool().unwrap(), "{description}");
            assert_eq!(result.limit, 280);
        }
    }
}

/// `tweets`: the legacy 140-character validity, which twitter-text runs with config v1.
#[test]
fn tweets_validity_v1() {
    let cases = section("tweets");
    assert_eq!(cases.len(), 8, "tweets: the suite changed; review the new cases");
    for (description, text, expected) in &cases {
        assert_eq!(x_parse(text, &XConfig::V1).valid, expected.as_bool().unwrap(), "{description}");
    }
    println!("tweets: {} passed", cases.len());
}

/// `urls_without_protocol`: twitter-text checks these with `isValidUrl(text, true, false)`; for
/// the length count what matters is that the extractor takes each whole text as one URL.
#[test]
fn urls_without_protocol_count_as_one_url() {
    let cases = section("urls_without_protocol");
    assert_eq!(cases.len(), 5, "urls_without_protocol: the suite changed; review the new cases");
    for (description, text, expected) in &cases {
        assert!(expected.as_bool().unwrap(), "{description}: only valid URLs are listed");
        assert_eq!(x_weighted_length(text), 23, "{description}");
    }
    println!("urls_without_protocol: {} passed", cases.len());
}

/// Every section is either run above or deliberately left out (see the module comment), so a new
/// section in a refreshed suite is noticed.
#[test]
fn every_section_is_accounted_for() {
    let documents = YamlLoader::load_from_str(SUITE).unwrap();
    let sections: BTreeMap<&str, usize> = documents[0]["tests"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(name, cases)| (name.as_str().unwrap(), cases.as_vec().map_or(0, Vec::len)))
        .collect();
    let known = [
        ("UnicodeDirectionalMarkerCounterTest", 2),
        ("WeightedTweetsCounterTest", 20),
        ("WeightedTweetsWithDiscountedEmojiCounterTest", 22),
        ("hashtags", 7),
        ("lists", 5),
        ("tweets", 8),
        ("urls", 24),
        ("urls_without_protocol", 5),
        ("usernames", 4),
    ];
    assert_eq!(sections, BTreeMap::from(known));
}
