//! The platforms Crier publishes to, named once.
//!
//! Every crate (the text rules in the browser's wasm, the protocol, the clients, the sandbox, the
//! store, the engine, the pages and the API) speaks of a platform with this [`Platform`], and keeps
//! per-platform settings in a [`PerPlatform`] table keyed by it. Adding a platform starts here: a
//! variant, its names below, and the compiler lists every `match` that must learn it
//! (`docs/adding-a-platform.md` lists the rest).
//!
//! One name per platform: the product, the database, the settings and the code all say
//! **Facebook** for Facebook Pages (Meta is the company; its Graph API serves Facebook and, later,
//! Instagram). The settings Crier read under `CRIER_META_*` before are still read as aliases
//! ([`Platform::settings_alias_prefix`]).

#![warn(missing_docs)]

use std::fmt;
use std::ops::{Index, IndexMut};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A platform Crier publishes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "platform", rename_all = "lowercase"))]
pub enum Platform {
    /// X (formerly Twitter), API v2.
    X,
    /// LinkedIn: a member's or an organization's feed (Posts API).
    Linkedin,
    /// A Facebook Page (Meta's Graph API).
    Facebook,
}

impl Platform {
    /// How many platforms there are.
    pub const COUNT: usize = 3;

    /// Every platform, in the order the product lists them.
    pub const ALL: [Platform; Platform::COUNT] = [Platform::X, Platform::Linkedin, Platform::Facebook];

    /// The lowercase name used in URLs, forms, JSON, logs and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Linkedin => "linkedin",
            Platform::Facebook => "facebook",
        }
    }

    /// The name for sentences a person reads: "X", "LinkedIn", "Facebook".
    pub const fn label(self) -> &'static str {
        match self {
            Platform::X => "X",
            Platform::Linkedin => "LinkedIn",
            Platform::Facebook => "Facebook",
        }
    }

    /// The prefix of the platform's settings: `CRIER_X`, `CRIER_LINKEDIN`, `CRIER_FACEBOOK` (as in
    /// `CRIER_FACEBOOK_CLIENT_ID`).
    pub const fn settings_prefix(self) -> &'static str {
        match self {
            Platform::X => "CRIER_X",
            Platform::Linkedin => "CRIER_LINKEDIN",
            Platform::Facebook => "CRIER_FACEBOOK",
        }
    }

    /// An older prefix still read for the same settings, if the platform had one: Facebook's
    /// settings were `CRIER_META_*` before the one name was chosen.
    pub const fn settings_alias_prefix(self) -> Option<&'static str> {
        match self {
            Platform::Facebook => Some("CRIER_META"),
            Platform::X | Platform::Linkedin => None,
        }
    }

    /// Its position in [`Platform::ALL`] (the index of [`PerPlatform`]).
    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = ParsePlatformError;

    /// Parses `x`, `linkedin` or `facebook`, ignoring ASCII case (`X` is how people write it).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|platform| platform.as_str().eq_ignore_ascii_case(input))
            .ok_or_else(|| ParsePlatformError { input: input.to_owned() })
    }
}

/// The text named no platform Crier knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePlatformError {
    input: String,
}

impl fmt::Display for ParsePlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown platform {:?}: expected one of ", self.input)?;
        for (i, platform) in Platform::ALL.iter().enumerate() {
            let separator = match i {
                0 => "",
                i if i + 1 == Platform::COUNT => " or ",
                _ => ", ",
            };
            write!(f, "{separator}\"{platform}\"")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParsePlatformError {}

/// One value per platform: budgets, clients, sandbox switches, settings. Indexed by [`Platform`],
/// so a table cannot forget a platform or mix two up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerPlatform<T>([T; Platform::COUNT]);

impl<T> PerPlatform<T> {
    /// The table whose value for each platform is `value(platform)`.
    pub fn from_fn(mut value: impl FnMut(Platform) -> T) -> Self {
        PerPlatform(Platform::ALL.map(&mut value))
    }

    /// Each platform with its value, in [`Platform::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Platform, &T)> {
        Platform::ALL.into_iter().zip(self.0.iter())
    }

    /// The values, in [`Platform::ALL`]'s order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }

    /// A table of `f` of each value.
    pub fn map<U>(self, mut f: impl FnMut(Platform, T) -> U) -> PerPlatform<U> {
        let mut platforms = Platform::ALL.into_iter();
        PerPlatform(self.0.map(|value| f(platforms.next().expect("one value per platform"), value)))
    }

    /// A table of references to the values.
    pub fn as_ref(&self) -> PerPlatform<&T> {
        PerPlatform::from_fn(|platform| &self.0[platform.index()])
    }
}

impl<T> Index<Platform> for PerPlatform<T> {
    type Output = T;

    fn index(&self, platform: Platform) -> &T {
        &self.0[platform.index()]
    }
}

impl<T> IndexMut<Platform> for PerPlatform<T> {
    fn index_mut(&mut self, platform: Platform) -> &mut T {
        &mut self.0[platform.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_from_their_names_and_index_in_order() {
        for (i, platform) in Platform::ALL.into_iter().enumerate() {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(platform));
            assert_eq!(platform.index(), i, "ALL lists the variants in declaration order");
        }
        assert_eq!("X".parse::<Platform>(), Ok(Platform::X));
        assert_eq!("LinkedIn".parse::<Platform>(), Ok(Platform::Linkedin));
    }

    #[test]
    fn unknown_platforms_are_refused_with_the_choices() {
        for input in ["twitter", "", " x", "face book", "meta"] {
            let error = input.parse::<Platform>().unwrap_err();
            assert_eq!(error.to_string(), format!("unknown platform {input:?}: expected one of \"x\", \"linkedin\" or \"facebook\""));
        }
    }

    #[test]
    fn names_for_people_and_settings() {
        let labels: Vec<_> = Platform::ALL.iter().map(|p| p.label()).collect();
        assert_eq!(labels, ["X", "LinkedIn", "Facebook"]);
        let prefixes: Vec<_> = Platform::ALL.iter().map(|p| p.settings_prefix()).collect();
        assert_eq!(prefixes, ["CRIER_X", "CRIER_LINKEDIN", "CRIER_FACEBOOK"]);
        assert_eq!(Platform::Facebook.settings_alias_prefix(), Some("CRIER_META"));
        assert_eq!(Platform::X.settings_alias_prefix(), None);
    }

    #[test]
    fn platforms_serialize_lowercase() {
        assert_eq!(serde_json::to_string(&Platform::Linkedin).unwrap(), "\"linkedin\"");
        assert_eq!(serde_json::from_str::<Platform>("\"facebook\"").unwrap(), Platform::Facebook);
        assert!(serde_json::from_str::<Platform>("\"meta\"").is_err());
    }

    #[test]
    fn tables_are_keyed_by_platform() {
        let mut table = PerPlatform::from_fn(|p| p.as_str().len());
        assert_eq!((table[Platform::X], table[Platform::Linkedin], table[Platform::Facebook]), (1, 8, 8));
        table[Platform::X] = 10;
        let doubled = table.map(|_, n| n * 2);
        assert_eq!(
            doubled.iter().map(|(p, n)| (p, *n)).collect::<Vec<_>>(),
            [(Platform::X, 20), (Platform::Linkedin, 16), (Platform::Facebook, 16)]
        );
        assert_eq!(doubled.values().sum::<usize>(), 52);
    }
}
