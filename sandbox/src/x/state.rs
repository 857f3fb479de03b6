//! What the X fake remembers, in one [`XState`] behind the sandbox's lock: registered apps, users,
//! authorization codes, tokens, OAuth 1.0a credentials, posts and rate-limit windows. The records
//! are all here so the whole state reads in one place; each concern adds its own `impl XState`
//! block in its module. What the control API does to the state (register, expire, revoke, reset)
//! is here too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::faults::Faults;

pub(super) const DEFAULT_USER: &str = "sandbox_user";

pub(super) struct App {
    pub(super) client_secret: String,
    pub(super) redirect_uri: String,
    pub(super) name: String,
}

#[derive(Clone)]
pub(super) struct User {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) username: String,
}

pub(super) struct Code {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) scope: Vec<String>,
    pub(super) challenge: String,
    pub(super) user_id: String,
    pub(super) expires_at: DateTime<Utc>,
}

pub(super) struct Access {
    pub(super) user_id: String,
    pub(super) client_id: String,
    pub(super) scope: Vec<String>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) revoked: bool,
}

pub(super) struct Refresh {
    pub(super) user_id: String,
    pub(super) client_id: String,
    pub(super) scope: Vec<String>,
}

pub(super) struct Post {
    pub(super) id: u64,
    pub(super) user_id: String,
    pub(super) text: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) deleted: bool,
}

pub(super) struct Window {
    pub(super) start: DateTime<Utc>,
    pub(super) used: u32,
}

/// OAuth 1.0a user-context credentials (the app's API key and secret, the user's access token and
/// secret), keyed in [`XState`] by the access token.
pub(super) struct OAuth1Grant {
    pub(super) consumer_key: String,
    pub(super) consumer_secret: String,
    pub(super) token_secret: String,
    pub(super) user_id: String,
}

pub(crate) struct XState {
    pub(super) apps: HashMap<String, App>,
    pub(super) users: Vec<User>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) access: HashMap<String, Access>,
    pub(super) refresh: HashMap<String, Refresh>,
    pub(super) posts: Vec<Post>,
    pub(super) last_post_id: u64,
    pub(super) windows: HashMap<String, Window>,
    /// OAuth 1.0a credentials by access token (`oauth_token`).
    pub(super) oauth1: HashMap<String, OAuth1Grant>,
    /// `(oauth_token, oauth_nonce, oauth_timestamp)` already seen: a replayed request is refused.
    pub(super) nonces: std::collections::HashSet<(String, String, i64)>,
    pub(crate) faults: Faults,
    /// Media uploads by media id (see [`super::media`]).
    pub(super) media: HashMap<String, super::media::XMedia>,
    pub(super) last_media_id: u64,
}

impl XState {
    pub(crate) fn new() -> Self {
        XState {
            apps: HashMap::new(),
            users: default_users(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            posts: Vec::new(),
            last_post_id: 0,
            windows: HashMap::new(),
            oauth1: HashMap::new(),
            nonces: std::collections::HashSet::new(),
            faults: Faults::new(),
            media: HashMap::new(),
            last_media_id: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        let apps = std::mem::take(&mut self.apps);
        *self = XState::new();
        self.apps = apps;
    }

    pub(crate) fn register_app(&mut self, client_id: &str, client_secret: &str, redirect_uri: &str, name: &str) {
        let app = App { client_secret: client_secret.to_owned(), redirect_uri: redirect_uri.to_owned(), name: name.to_owned() };
        self.apps.insert(client_id.to_owned(), app);
    }

    /// Control API: the access token expires now. False when unknown.
    pub(crate) fn expire_token(&mut self, access_token: &str, now: DateTime<Utc>) -> bool {
        match self.access.get_mut(access_token) {
            Some(access) => {
                access.expires_at = now;
                true
            }
            None => false,
        }
    }

    /// Control API: the person removed the app's access: every token of the user dies (OAuth 1.0a
    /// credentials too). Returns how many.
    pub(crate) fn revoke_user(&mut self, user_id: &str) -> usize {
        let mut count = 0;
        for access in self.access.values_mut().filter(|a| a.user_id == user_id && !a.revoked) {
            access.revoked = true;
            count += 1;
        }
        let before = self.refresh.len() + self.oauth1.len();
        self.refresh.retain(|_, r| r.user_id != user_id);
        self.oauth1.retain(|_, g| g.user_id != user_id);
        count + before - self.refresh.len() - self.oauth1.len()
    }

    pub(super) fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(super) fn user_by_username(&mut self, username: &str) -> User {
        if let Some(user) = self.users.iter().find(|u| u.username.eq_ignore_ascii_case(username)) {
            return user.clone();
        }
        let next = self.users.iter().filter_map(|u| u.id.parse::<u64>().ok()).max().unwrap_or(0) + 1;
        let user = User { id: next.to_string(), name: username.to_owned(), username: username.to_owned() };
        self.users.push(user.clone());
        user
    }
}

fn default_users() -> Vec<User> {
    vec![User { id: "1".to_owned(), name: "Sandbox User".to_owned(), username: DEFAULT_USER.to_owned() }]
}
