//! What the LinkedIn fake remembers, in one [`LinkedInState`] behind the sandbox's lock: registered
//! apps, members and the organizations they administer, authorization codes, tokens, posts and the
//! daily post counts. The records are all here so the whole state reads in one place. What the
//! control API does to the state (register, refresh-token approval, expire, revoke, reset) is here
//! too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::faults::Faults;
use crate::util;

pub(super) const DEFAULT_MEMBER: &str = "sandbox-member";

pub(super) struct App {
    pub(super) client_secret: String,
    pub(super) redirect_uri: String,
    pub(super) name: String,
    /// "Programmatic refresh tokens" (approved partners only, §2.5).
    pub(super) refresh_tokens: bool,
}

#[derive(Clone)]
pub(super) struct Member {
    /// The OpenID `sub`; the person URN is `urn:li:person:{id}`.
    pub(super) id: String,
    /// What the consent page's Account field names (a public-profile vanity name).
    pub(super) vanity: String,
    pub(super) given_name: String,
    pub(super) family_name: String,
    /// Organization ids this member administers.
    pub(super) orgs: Vec<u64>,
}

pub(super) struct Org {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) vanity: String,
}

pub(super) struct Code {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) scope: Vec<String>,
    pub(super) member_id: String,
    pub(super) expires_at: DateTime<Utc>,
}

pub(super) struct Access {
    pub(super) member_id: String,
    pub(super) client_id: String,
    pub(super) scope: Vec<String>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) revoked: bool,
}

pub(super) struct Refresh {
    pub(super) member_id: String,
    pub(super) client_id: String,
    pub(super) scope: Vec<String>,
    /// Fixed at the first issue: refreshing does not extend it (§2.5).
    pub(super) expires_at: DateTime<Utc>,
}

pub(super) struct Post {
    pub(super) urn: String,
    pub(super) member_id: String,
    pub(super) author: String,
    pub(super) commentary: String,
    pub(super) visibility: String,
    pub(super) lifecycle_state: String,
    pub(super) distribution: Value,
    pub(super) content: Option<Value>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) deleted: bool,
}

pub(crate) struct LinkedInState {
    pub(super) apps: HashMap<String, App>,
    pub(super) members: Vec<Member>,
    pub(super) orgs: Vec<Org>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) access: HashMap<String, Access>,
    pub(super) refresh: HashMap<String, Refresh>,
    pub(super) posts: Vec<Post>,
    /// Comments on posts (see [`super::comments`]).
    pub(super) comments: Vec<super::comments::Comment>,
    pub(super) last_post_id: u64,
    /// (member, app, UTC day) → calls to `POST /rest/posts`.
    pub(super) daily: HashMap<(String, String, chrono::NaiveDate), u32>,
    /// Metrics calls per (member, app, UTC day), counted apart from posting.
    pub(super) metrics_daily: HashMap<(String, String, chrono::NaiveDate), u32>,
    pub(crate) faults: Faults,
    /// Media assets by URN (see [`super::media`]).
    pub(super) assets: HashMap<String, super::media::Asset>,
    /// Upload URL id → (asset URN, part index).
    pub(super) uploads: HashMap<String, (String, u64)>,
}

fn default_members() -> Vec<Member> {
    vec![Member {
        id: "782bbtaQ".to_owned(),
        vanity: DEFAULT_MEMBER.to_owned(),
        given_name: "Sandbox".to_owned(),
        family_name: "Member".to_owned(),
        orgs: vec![5515715],
    }]
}

fn default_orgs() -> Vec<Org> {
    vec![
        Org { id: 5515715, name: "Sandbox Organization".to_owned(), vanity: "sandbox-organization".to_owned() },
        Org { id: 2414183, name: "Devtestco".to_owned(), vanity: "devtestco".to_owned() },
    ]
}

impl LinkedInState {
    pub(crate) fn new() -> Self {
        LinkedInState {
            apps: HashMap::new(),
            members: default_members(),
            orgs: default_orgs(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            posts: Vec::new(),
            comments: Vec::new(),
            last_post_id: 0,
            daily: HashMap::new(),
            metrics_daily: HashMap::new(),
            faults: Faults::new(),
            assets: HashMap::new(),
            uploads: HashMap::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        let apps = std::mem::take(&mut self.apps);
        *self = LinkedInState::new();
        self.apps = apps;
    }

    pub(crate) fn register_app(&mut self, client_id: &str, client_secret: &str, redirect_uri: &str, name: &str) {
        let refresh_tokens = self.apps.get(client_id).is_none_or(|a| a.refresh_tokens);
        let app =
            App { client_secret: client_secret.to_owned(), redirect_uri: redirect_uri.to_owned(), name: name.to_owned(), refresh_tokens };
        self.apps.insert(client_id.to_owned(), app);
    }

    /// False when the app is unknown.
    pub(crate) fn set_refresh_tokens(&mut self, client_id: &str, enabled: bool) -> bool {
        match self.apps.get_mut(client_id) {
            Some(app) => {
                app.refresh_tokens = enabled;
                true
            }
            None => false,
        }
    }

    pub(crate) fn expire_token(&mut self, token: &str, now: DateTime<Utc>) -> bool {
        if let Some(access) = self.access.get_mut(token) {
            access.expires_at = now;
            return true;
        }
        if let Some(refresh) = self.refresh.get_mut(token) {
            refresh.expires_at = now;
            return true;
        }
        false
    }

    /// The member removed the app: every token dies (65601 REVOKED_ACCESS_TOKEN). Accepts the
    /// member id (`sub`), the person URN or the vanity name.
    pub(crate) fn revoke_user(&mut self, user: &str) -> usize {
        let Some(id) = self.find_member(user).map(|m| m.id.clone()) else { return 0 };
        let mut count = 0;
        for access in self.access.values_mut().filter(|a| a.member_id == id && !a.revoked) {
            access.revoked = true;
            count += 1;
        }
        let before = self.refresh.len();
        self.refresh.retain(|_, r| r.member_id != id);
        count + before - self.refresh.len()
    }

    fn find_member(&self, key: &str) -> Option<&Member> {
        let key = key.strip_prefix("urn:li:person:").unwrap_or(key);
        self.members.iter().find(|m| m.id == key || m.vanity.eq_ignore_ascii_case(key))
    }

    pub(super) fn member_by_vanity(&mut self, vanity: &str) -> Member {
        if let Some(m) = self.members.iter().find(|m| m.vanity.eq_ignore_ascii_case(vanity)) {
            return m.clone();
        }
        // An OpenID `sub`: 10 URL-safe characters, as in the documented sample ("782bbtaQ").
        let id: String = util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(10).collect();
        let mut words = vanity.split(['-', '_', '.']).filter(|w| !w.is_empty()).map(capitalize);
        let given_name = words.next().unwrap_or_else(|| vanity.to_owned());
        let family_name = words.collect::<Vec<_>>().join(" ");
        let member = Member { id, vanity: vanity.to_owned(), given_name, family_name, orgs: Vec::new() };
        self.members.push(member.clone());
        member
    }

    pub(super) fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
