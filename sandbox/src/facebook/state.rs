//! What the Meta fake remembers, in one [`FacebookState`] behind the sandbox's lock: registered
//! apps, people and Pages, the Pages each person granted each app, authorization codes, user and
//! Page tokens, posts and the sliding rate-limit windows. The records are all here so the whole
//! state reads in one place. What the control API does to the state (register, expire, revoke,
//! reset) is here too, and what de-authorizing an app takes away.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::faults::Faults;

pub(super) const DEFAULT_USER: &str = "Sandbox User";
const DEFAULT_PAGE: &str = "422575694827569";

pub(super) struct App {
    pub(super) app_secret: String,
    pub(super) redirect_uri: String,
    pub(super) name: String,
}

#[derive(Clone)]
pub(super) struct User {
    pub(super) id: String,
    pub(super) name: String,
}

pub(super) struct Page {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) category: String,
    /// Users who can CREATE_CONTENT on the Page.
    pub(super) admins: Vec<String>,
}

pub(super) struct Code {
    pub(super) app_id: String,
    pub(super) redirect_uri: String,
    pub(super) user_id: String,
    pub(super) scope: Vec<String>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) used: bool,
}

#[derive(Clone)]
pub(super) enum Kind {
    User { long_lived: bool },
    Page { page_id: String },
}

#[derive(Clone)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) user_id: String,
    pub(super) app_id: String,
    pub(super) scope: Vec<String>,
    /// None: never expires (Page tokens from a long-lived user token).
    pub(super) expires_at: Option<DateTime<Utc>>,
    /// The error subcode when the token was invalidated (458 app removed, 460 password changed,
    /// 467 logged out).
    pub(super) invalidated: Option<u32>,
}

pub(super) struct Post {
    pub(super) id: String,
    pub(super) page_id: String,
    pub(super) message: String,
    pub(super) link: Option<String>,
    /// Photo or video ids shown with it, in order.
    pub(super) media: Vec<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) deleted: bool,
}

pub(crate) struct FacebookState {
    pub(super) apps: HashMap<String, App>,
    pub(super) users: Vec<User>,
    pub(super) pages: Vec<Page>,
    /// (user, app) → the Pages the user granted the app on the dialog.
    pub(super) grants: HashMap<(String, String), Vec<String>>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) tokens: HashMap<String, Token>,
    pub(super) posts: Vec<Post>,
    /// Comments on Page posts (see [`super::comments`]).
    pub(super) comments: Vec<super::comments::Comment>,
    pub(super) last_comment_id: u64,
    pub(super) last_post_id: u64,
    /// Sliding windows: key → call instants.
    pub(super) calls: HashMap<String, VecDeque<DateTime<Utc>>>,
    pub(crate) faults: Faults,
    /// Photos by id, videos by id and resumable upload sessions by id (see [`super::media`]).
    pub(super) photos: HashMap<String, super::media::Photo>,
    pub(super) videos: HashMap<String, super::media::Video>,
    pub(super) sessions: HashMap<String, super::media::Session>,
    pub(super) last_media_id: u64,
}

fn default_users() -> Vec<User> {
    vec![User { id: "10160000000000001".to_owned(), name: DEFAULT_USER.to_owned() }]
}

fn default_pages() -> Vec<Page> {
    vec![
        Page {
            id: DEFAULT_PAGE.to_owned(),
            name: "Sandbox Page".to_owned(),
            category: "Software".to_owned(),
            admins: vec!["10160000000000001".to_owned()],
        },
        Page {
            id: "112130216863063".to_owned(),
            name: "Second Sandbox Page".to_owned(),
            category: "Blogger".to_owned(),
            admins: vec!["10160000000000001".to_owned()],
        },
    ]
}

impl FacebookState {
    pub(crate) fn new() -> Self {
        FacebookState {
            apps: HashMap::new(),
            users: default_users(),
            pages: default_pages(),
            grants: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            posts: Vec::new(),
            comments: Vec::new(),
            last_comment_id: 0,
            last_post_id: 917_077_345_377_399,
            calls: HashMap::new(),
            faults: Faults::new(),
            photos: HashMap::new(),
            videos: HashMap::new(),
            sessions: HashMap::new(),
            last_media_id: 122_168_909_192_960_180,
        }
    }

    pub(crate) fn reset(&mut self) {
        let apps = std::mem::take(&mut self.apps);
        *self = FacebookState::new();
        self.apps = apps;
    }

    pub(crate) fn register_app(&mut self, app_id: &str, app_secret: &str, redirect_uri: &str, name: &str) {
        let app = App { app_secret: app_secret.to_owned(), redirect_uri: redirect_uri.to_owned(), name: name.to_owned() };
        self.apps.insert(app_id.to_owned(), app);
    }

    pub(crate) fn expire_token(&mut self, token: &str, now: DateTime<Utc>) -> bool {
        match self.tokens.get_mut(token) {
            Some(t) => {
                t.expires_at = Some(now);
                true
            }
            None => false,
        }
    }

    /// Every token of the user (and the Page tokens got through them) dies with 190/460.
    pub(crate) fn revoke_user(&mut self, user: &str) -> usize {
        let Some(id) = self.users.iter().find(|u| u.id == user || u.name == user).map(|u| u.id.clone()) else { return 0 };
        self.invalidate(460, |t| t.user_id == id)
    }

    /// The person removes the app (`DELETE /me/permissions`): its grant and unused codes go, and
    /// every token of that person for that app, Page tokens included, dies with 190/458 "App Not
    /// Installed" (§3.3: "user removed app"; §3.2: de-authorizing invalidates Page tokens). Their
    /// tokens for other apps live on.
    pub(super) fn deauthorize(&mut self, user_id: &str, app_id: &str) {
        self.grants.remove(&(user_id.to_owned(), app_id.to_owned()));
        self.codes.retain(|_, c| !(c.user_id == user_id && c.app_id == app_id));
        self.invalidate(458, |t| t.user_id == user_id && t.app_id == app_id);
    }

    /// Invalidates every live token `which` picks with `subcode`; how many.
    fn invalidate(&mut self, subcode: u32, which: impl Fn(&Token) -> bool) -> usize {
        let mut count = 0;
        for t in self.tokens.values_mut().filter(|t| t.invalidated.is_none() && which(t)) {
            t.invalidated = Some(subcode);
            count += 1;
        }
        count
    }

    pub(super) fn user_by_name(&mut self, name: &str) -> User {
        if let Some(u) = self.users.iter().find(|u| u.name.eq_ignore_ascii_case(name)) {
            return u.clone();
        }
        let next = self.users.iter().filter_map(|u| u.id.parse::<u64>().ok()).max().unwrap_or(10_160_000_000_000_000) + 1;
        let user = User { id: next.to_string(), name: name.to_owned() };
        self.users.push(user.clone());
        user
    }
}
