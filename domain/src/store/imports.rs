//! Importing posts from a CSV file ([`crate::import`] reads it): every row is matched against the
//! team (accounts and media by name), checked, and scheduled through [`posts::schedule`], the path
//! Compose, the batch form and the API take (so the team's approval rules, the platforms' text
//! limits and media rules apply alike), all in one transaction: every row, or (if any row is wrong)
//! none, with a report naming each row and column to fix.
//!
//! Each row is keyed by a SHA-256 of the team, its content as parsed, its accounts and its time,
//! stored in `post_import` with the post it made: importing the same rows again schedules nothing
//! and counts them as already imported. The keys are claimed in one statement, in key order, before
//! any post is written, so a concurrent import of the same rows waits for this one and then skips
//! them, and two imports never wait on each other in a circle.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::Actor;
use super::{posts, reviews};
use crate::DomainError;
use crate::import::{self, ImportLimits, MediaName, Problem, Row, When};
use crate::post::{MediaChoice, MediaRules, PostContent};
use crate::timezone::TimeZone;
use crier_platform::Platform;

/// What an import did, or (with problems) why it wrote nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The rows of posts the file holds (blank rows aside).
    pub rows: usize,
    /// Posts scheduled now.
    pub imported: usize,
    /// Rows imported before (or repeated in the file), skipped.
    pub already_imported: usize,
    /// What to fix, by row (at most [`import::MAX_PROBLEMS`]); when there are any, nothing was written.
    pub problems: Vec<Problem>,
    /// Problems found beyond those listed.
    pub more_problems: usize,
}

impl ImportReport {
    /// Whether the file was imported (nothing to fix).
    pub fn is_imported(&self) -> bool {
        self.problems.is_empty()
    }

    /// One sentence: what happened.
    pub fn summary(&self) -> String {
        let posts = |n: usize| if n == 1 { "1 post".to_owned() } else { format!("{n} posts") };
        let rows = |n: usize| if n == 1 { "1 row".to_owned() } else { format!("{n} rows") };
        if !self.is_imported() {
            let count = self.problems.len() + self.more_problems;
            return format!(
                "Nothing was imported: {} to fix{}. Correct the file and import it again.",
                if count == 1 { "1 problem".to_owned() } else { format!("{count} problems") },
                if self.rows > 0 { format!(" in {}", rows(self.rows)) } else { String::new() }
            );
        }
        match (self.imported, self.already_imported) {
            (n, 0) => format!("Imported {}.", posts(n)),
            (0, old) => format!(
                "Nothing new to import: {} already imported.",
                if old == 1 { "the 1 row was".to_owned() } else { format!("all {old} rows were") }
            ),
            (n, old) => format!("Imported {}; {} already imported, skipped.", posts(n), rows(old)),
        }
    }

    fn refused(rows: usize, mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|p| p.row.unwrap_or(0));
        let more_problems = problems.len().saturating_sub(import::MAX_PROBLEMS);
        problems.truncate(import::MAX_PROBLEMS);
        ImportReport { rows, imported: 0, already_imported: 0, problems, more_problems }
    }
}

/// Who imports, and how.
#[derive(Clone, Copy, Debug)]
pub struct Importer<'a> {
    /// The team the posts are for: accounts and media are matched within it.
    pub team_id: Uuid,
    /// Who schedules them (the author, and the role the approval rules look at).
    pub actor: Actor,
    /// The zone the file's dates and times are read in.
    pub timezone: TimeZone,
    /// The file's limits.
    pub limits: ImportLimits,
    /// Each platform's media rules.
    pub rules: &'a MediaRules,
    /// Where the import says how far it has come (the Import page shows it).
    pub progress: &'a Progress,
}

/// What an import is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Not started: other imports are running.
    Waiting,
    /// Checking the rows against the team and the platforms' rules.
    Checking,
    /// Fetching media named by web address.
    Fetching,
    /// Scheduling the posts.
    Scheduling,
}

impl Stage {
    const ALL: [Stage; 4] = [Stage::Waiting, Stage::Checking, Stage::Fetching, Stage::Scheduling];

    /// Its name in `import_job.stage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Waiting => "waiting",
            Stage::Checking => "checking",
            Stage::Fetching => "fetching",
            Stage::Scheduling => "scheduling",
        }
    }

    /// The stage `import_job.stage` names.
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// How far an import has come: its stage, and how many of the stage's items are done. The import
/// updates it as it goes (a few atomic stores, nothing written anywhere); whoever shows progress
/// reads it when it likes.
#[derive(Debug, Default)]
pub struct Progress {
    stage: AtomicU8,
    done: AtomicUsize,
    of: AtomicUsize,
}

impl Progress {
    /// The stage, the items done and the items in it (`done <= of`).
    pub fn snapshot(&self) -> (Stage, usize, usize) {
        let stage = Stage::ALL.get(usize::from(self.stage.load(Ordering::Relaxed))).copied().unwrap_or(Stage::Waiting);
        let of = self.of.load(Ordering::Relaxed);
        (stage, self.done.load(Ordering::Relaxed).min(of), of)
    }

    fn begin(&self, stage: Stage, of: usize) {
        self.done.store(0, Ordering::Relaxed);
        self.of.store(of, Ordering::Relaxed);
        self.stage.store(stage as u8, Ordering::Relaxed);
    }

    fn advance(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Fetches media a file names by web address into the team's library (the web app's uploads do
/// it, under the outbound address rules). Called once per import, after every row has been
/// checked and only for the rows not imported before, so a file with mistakes or imported already
/// fetches nothing.
#[async_trait::async_trait]
pub trait MediaFetcher: Send + Sync {
    /// Each address's new library item, or in words why it could not be fetched.
    async fn fetch(&self, urls: &[String]) -> HashMap<String, Result<Uuid, String>>;
}

/// The most web addresses one import fetches (each may be a large video).
pub const MAX_MEDIA_URLS: usize = 20;

/// A row matched and checked, ready to schedule.
struct Ready {
    row: usize,
    key: Vec<u8>,
    post: posts::NewPost,
    /// Into its accounts' queues (`post.scheduled_at` is not used).
    queue: bool,
    /// Media named by web address: each one's place in `post.content.media` (which holds a
    /// stand-in id until it is fetched) and its address.
    urls: Vec<(usize, String)>,
}

/// A media choice's stand-in id until its web address is fetched (unique within a row).
fn stand_in(place: usize) -> Uuid {
    Uuid::from_u128(u128::MAX - place as u128)
}

/// An account of the team, as names are matched against it.
struct Account {
    account_id: Uuid,
    platform: Platform,
    name: String,
    handle: Option<String>,
}

/// Imports `bytes`. A file with anything to fix writes nothing and answers the report with the
/// problems; `Err` is reserved for the database failing.
pub async fn import(
    pool: &PgPool,
    importer: Importer<'_>,
    bytes: &[u8],
    fetcher: Option<&dyn MediaFetcher>,
) -> Result<ImportReport, DomainError> {
    let (rows, mut problems) = match import::read(bytes, importer.limits) {
        Ok(read) => read,
        Err(problems) => return Ok(ImportReport::refused(0, problems)),
    };
    let bad_rows: HashSet<usize> = problems.iter().filter_map(|p| p.row).collect();
    let total = rows.len() + bad_rows.len();
    let progress = importer.progress;
    progress.begin(Stage::Checking, rows.len());
    if reviews::must_submit(&mut *pool.acquire().await?, importer.team_id, importer.actor).await? {
        return Ok(ImportReport::refused(
            total,
            vec![Problem::file(
                "Your posts need approval in this team, and an import schedules posts: ask someone whose posts need no approval \
                 to import this file, or submit the posts for review from Compose.",
            )],
        ));
    }
    let accounts = team_accounts(pool, importer.team_id).await?;
    let media = library(pool, importer.team_id, &rows).await?;
    let now = Utc::now();
    let mut ready = Vec::with_capacity(rows.len());
    for row in &rows {
        match prepare(&importer, row, &accounts, &media, fetcher.is_some()) {
            Ok(r) => ready.push(r),
            Err(found) => problems.extend(found),
        }
    }

    // Repeated rows (in this file, or imported before) are skipped.
    let prepared = ready.len();
    let mut seen = HashSet::new();
    ready.retain(|r| seen.insert(r.key.clone()));
    let mut already = prepared - ready.len();
    let keys: Vec<Vec<u8>> = ready.iter().map(|r| r.key.clone()).collect();
    let old: HashSet<Vec<u8>> =
        sqlx::query_scalar!("select row_key from post_import where team_id = $1 and row_key = any($2)", importer.team_id, &keys)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    already += old.len();
    ready.retain(|r| !old.contains(&r.key));
    // A row that is new but whose time has passed is a problem; one imported before is not.
    for r in &ready {
        if !r.queue && crate::post::has_passed(r.post.scheduled_at, now) {
            problems.push(Problem::at(
                r.row,
                Some("time"),
                format!("{} has passed. Give a later date and time.", r.post.timezone.format(r.post.scheduled_at)),
            ));
        }
    }
    let wanted: Vec<String> = ready.iter().flat_map(|r| r.urls.iter().map(|(_, url)| url.clone())).collect::<Vec<_>>();
    let mut distinct = wanted.clone();
    distinct.sort();
    distinct.dedup();
    if distinct.len() > MAX_MEDIA_URLS {
        problems.push(Problem::file(format!(
            "The file names {} media by web address; one import fetches {MAX_MEDIA_URLS} at most. Split the file, or upload the files \
             on the Media page and name them.",
            distinct.len()
        )));
    }
    if !problems.is_empty() {
        // Still check the other rows against the platforms' rules, so one report says everything
        // (rows with media by web address cannot be: their media is not fetched for a refused file).
        ready.retain(|r| r.urls.is_empty());
        progress.begin(Stage::Checking, ready.len());
        let mut tx = pool.begin().await?;
        let mut ids = Vec::new();
        schedule_rows(&mut tx, &importer, &ready, &mut problems, &mut ids).await?;
        tx.rollback().await?;
        return Ok(ImportReport::refused(total, problems));
    }
    if let (Some(fetcher), false) = (fetcher, distinct.is_empty()) {
        progress.begin(Stage::Fetching, distinct.len());
        let mut fetched = HashMap::with_capacity(distinct.len());
        for url in &distinct {
            fetched.extend(fetcher.fetch(std::slice::from_ref(url)).await);
            progress.advance();
        }
        for r in &mut ready {
            for (place, url) in &r.urls {
                match fetched.get(url) {
                    Some(Ok(media_id)) => r.post.content.media[*place].media_id = *media_id,
                    Some(Err(reason)) => problems.push(Problem::at(r.row, Some("media"), format!("{}: {reason}", shorten(url)))),
                    None => problems.push(Problem::at(r.row, Some("media"), format!("{} was not fetched.", shorten(url)))),
                }
            }
        }
        if !problems.is_empty() {
            return Ok(ImportReport::refused(total, problems));
        }
    }

    progress.begin(Stage::Scheduling, ready.len());
    let mut tx = pool.begin().await?;
    let mut sorted = keys.clone();
    sorted.retain(|k| !old.contains(k));
    sorted.sort();
    let claimed: HashSet<Vec<u8>> = sqlx::query_scalar!(
        r#"insert into post_import (team_id, row_key)
           select $1, k from unnest($2::bytea[]) as k order by k
           on conflict (team_id, row_key) do nothing
           returning row_key"#,
        importer.team_id,
        &sorted
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    // Rows another import took meanwhile.
    already += ready.len() - claimed.len();
    ready.retain(|r| claimed.contains(&r.key));
    let mut ids = Vec::with_capacity(ready.len());
    schedule_rows(&mut tx, &importer, &ready, &mut problems, &mut ids).await?;
    if !problems.is_empty() {
        tx.rollback().await?;
        return Ok(ImportReport::refused(total, problems));
    }
    let keys: Vec<Vec<u8>> = ready.iter().map(|r| r.key.clone()).collect();
    sqlx::query!(
        r#"update post_import p set post_id = u.post_id
           from unnest($2::bytea[], $3::uuid[]) as u (row_key, post_id)
           where p.team_id = $1 and p.row_key = u.row_key"#,
        importer.team_id,
        &keys,
        &ids
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ImportReport { rows: total, imported: ids.len(), already_imported: already, problems: Vec::new(), more_problems: 0 })
}

/// Schedules each row through [`posts::schedule`] on `conn`; the rows it refuses (a text over a
/// platform's limit, media a platform does not take, a disconnected account) become problems.
/// The refusals come before anything is written, so the transaction stays usable.
async fn schedule_rows(
    conn: &mut sqlx::PgConnection,
    importer: &Importer<'_>,
    ready: &[Ready],
    problems: &mut Vec<Problem>,
    ids: &mut Vec<Uuid>,
) -> Result<(), DomainError> {
    // Imported posts track their links as the team's defaults say, as Compose starts with them.
    let tracking = super::link_tracking::team_defaults_on(&mut *conn, importer.team_id).await?;
    for r in ready {
        if problems.len() > import::MAX_PROBLEMS {
            break;
        }
        let post = posts::NewPost { content: r.post.content.clone().with_tracking(tracking.clone()), ..r.post.clone() };
        importer.progress.advance();
        let scheduled = if r.queue {
            posts::add_to_queue(&mut *conn, importer.team_id, importer.actor, None, &post, importer.rules).await
        } else {
            posts::schedule(&mut *conn, importer.team_id, importer.actor, &post, importer.rules).await
        };
        match scheduled {
            Ok(id) => ids.push(id),
            Err(DomainError::Invalid(field)) if field.field == "intent" => {
                problems.push(Problem::file(field.message));
                break;
            }
            Err(DomainError::Invalid(field)) => problems.push(Problem::at(r.row, column(&field.field), field.message)),
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// The CSV column a field of the domain's errors is.
fn column(field: &str) -> Option<&'static str> {
    match field {
        "text" => Some("text"),
        "text_x" => Some("text_x"),
        "text_linkedin" => Some("text_linkedin"),
        "text_facebook" => Some("text_facebook"),
        "link" => Some("link"),
        "accounts" => Some("accounts"),
        "media" => Some("media"),
        "scheduled_at" | "occurrence" => Some("time"),
        f if f.starts_with("thread") => Some("thread"),
        _ => None,
    }
}

/// Matches a row against the team, parses its content and time, and computes its key.
fn prepare(
    importer: &Importer<'_>,
    row: &Row,
    accounts: &[Account],
    media: &HashMap<String, Vec<Uuid>>,
    can_fetch: bool,
) -> Result<Ready, Vec<Problem>> {
    let number = row.row;
    let mut problems = Vec::new();
    let mut urls = Vec::new();
    let mut account_ids = Vec::new();
    for name in &row.accounts {
        match match_account(accounts, name) {
            Ok(id) => account_ids.push(id),
            Err(message) => problems.push(Problem::at(number, Some("accounts"), message)),
        }
    }
    let mut choices = Vec::new();
    for name in &row.media {
        match name {
            MediaName::Url(url) if can_fetch => {
                urls.push((choices.len(), url.clone()));
                choices.push(MediaChoice { media_id: stand_in(choices.len()), alt_text: None, platform: None, item: 0 });
            }
            MediaName::Url(url) => problems.push(Problem::at(
                number,
                Some("media"),
                format!(
                    "Media by web address ({}) is fetched by the Import page and the API; from the command line, upload the file \
                     on the Media page and name it here.",
                    shorten(url)
                ),
            )),
            MediaName::Library(name) => match media.get(&name.to_lowercase()).map(Vec::as_slice) {
                Some([id]) => choices.push(MediaChoice { media_id: *id, alt_text: None, platform: None, item: 0 }),
                Some(ids) if ids.len() > 1 => problems.push(Problem::at(
                    number,
                    Some("media"),
                    format!(
                        "{} items of the library are named “{}”: name the one you mean by its id (the Media page shows it).",
                        ids.len(),
                        shorten(name)
                    ),
                )),
                _ => problems.push(Problem::at(
                    number,
                    Some("media"),
                    format!("The library has no item named “{}”. Upload it on the Media page first, or check the name.", shorten(name)),
                )),
            },
        }
    }
    let overrides: Vec<(Platform, String)> = Platform::ALL.into_iter().zip(row.overrides.iter().cloned()).collect();
    let content = PostContent::parse(&row.text, overrides, &row.link, row.thread.clone()).and_then(|c| c.with_media(choices));
    let content = match content {
        Ok(content) => Some(content),
        Err(e) => {
            problems.push(Problem::at(number, column(&e.field), e.message));
            None
        }
    };
    let at = match row.when {
        // Each account's next free posting time, found when it is scheduled.
        When::Queue => Some(None),
        When::At(day, time) => {
            let typed = format!("{}T{}", day.format("%Y-%m-%d"), time.format("%H:%M"));
            match importer.timezone.schedule_time(&typed, None) {
                Ok(at) => Some(Some(at)),
                Err(e) if e.field == "occurrence" => {
                    problems.push(Problem::at(
                        number,
                        Some("time"),
                        format!(
                            "{} {} happens twice in {} (the clocks go back then): choose a time outside that hour.",
                            day.format("%Y-%m-%d"),
                            time.format("%H:%M"),
                            importer.timezone.name()
                        ),
                    ));
                    None
                }
                Err(e) => {
                    problems.push(Problem::at(number, Some("time"), e.message));
                    None
                }
            }
        }
    };
    match (content, at) {
        (Some(content), Some(at)) if problems.is_empty() => {
            account_ids.sort_unstable();
            account_ids.dedup();
            let addresses: Vec<&str> = urls.iter().map(|(_, url): &(usize, String)| url.as_str()).collect();
            let key = row_key(importer.team_id, &content, &addresses, &account_ids, at);
            Ok(Ready {
                row: number,
                key,
                queue: at.is_none(),
                urls,
                post: posts::NewPost {
                    content,
                    account_ids,
                    scheduled_at: at.unwrap_or_else(Utc::now),
                    timezone: importer.timezone,
                    dry_run: false,
                    retry: Default::default(),
                },
            })
        }
        _ => Err(problems),
    }
}

/// The row's key: the team, its parsed content (so spacing around cells does not matter), its
/// accounts (sorted) and its time (none for a row into the queue).
fn row_key(team_id: Uuid, content: &PostContent, urls: &[&str], account_ids: &[Uuid], at: Option<DateTime<Utc>>) -> Vec<u8> {
    let at = at.map(|at| at.timestamp());
    // The fields a CSV row sets, named one by one: a field added to `PostContent` later (link
    // tracking, first comments) must not change the keys of rows imported before it existed.
    let content = serde_json::json!({
        "text": content.text, "overrides": content.overrides, "link": content.link, "thread": content.thread, "media": content.media,
    });
    let mut canonical = serde_json::json!({ "v": 1, "team": team_id, "content": content, "accounts": account_ids, "at": at });
    // Media by web address is keyed by its address (its library item is new at each fetch).
    if !urls.is_empty() {
        canonical["media_urls"] = serde_json::json!(urls);
    }
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= 80 { text.to_owned() } else { format!("{}…", text.chars().take(80).collect::<String>()) }
}

/// The account `written` names: `Name`, `platform:Name` or `@handle`, without regard to case.
fn match_account(accounts: &[Account], written: &str) -> Result<Uuid, String> {
    let (platform, name) = match written.split_once(':') {
        Some((p, rest)) => match p.trim().parse::<Platform>() {
            Ok(platform) => (Some(platform), rest.trim()),
            Err(_) => (None, written),
        },
        None => (None, written),
    };
    let wanted = name.to_lowercase();
    let found: Vec<&Account> = accounts
        .iter()
        .filter(|a| platform.is_none_or(|p| a.platform == p))
        .filter(|a| match wanted.strip_prefix('@') {
            // X handles are stored as "@name".
            Some(handle) => a.handle.as_deref().is_some_and(|h| h.trim_start_matches('@').to_lowercase() == handle),
            None => a.name.to_lowercase() == wanted,
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.account_id),
        [] => Err(format!(
            "The team has no account named “{}”. Write an account's name as the Accounts page shows it{}.",
            shorten(written),
            if platform.is_some() { "" } else { ", or x:Name, linkedin:Name, facebook:Name" }
        )),
        many => {
            let mut platforms: Vec<Platform> = many.iter().map(|a| a.platform).collect();
            platforms.dedup();
            Err(if platforms.len() > 1 {
                format!(
                    "“{}” names {} accounts: write {} to choose one.",
                    shorten(written),
                    many.len(),
                    platforms.iter().map(|p| format!("{}:{}", p.as_str(), name)).collect::<Vec<_>>().join(" or ")
                )
            } else {
                format!(
                    "“{}” names {} {} accounts: write @handle for an X account, or rename one at its platform.",
                    shorten(written),
                    many.len(),
                    platforms[0].label()
                )
            })
        }
    }
}

/// The team's accounts (disconnected ones too: scheduling to one says it is disconnected).
async fn team_accounts(pool: &PgPool, team_id: Uuid) -> Result<Vec<Account>, DomainError> {
    let rows = sqlx::query!(
        r#"select account_id, platform as "platform: Platform", name, handle from platform_account where team_id = $1"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| Account { account_id: r.account_id, platform: r.platform, name: r.name, handle: r.handle }).collect())
}

/// The library items the rows name, by lowercased name (and id): each name's items.
async fn library(pool: &PgPool, team_id: Uuid, rows: &[Row]) -> Result<HashMap<String, Vec<Uuid>>, DomainError> {
    let mut names: Vec<String> = rows
        .iter()
        .flat_map(|r| &r.media)
        .filter_map(|m| match m {
            MediaName::Library(name) => Some(name.to_lowercase()),
            MediaName::Url(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let found = sqlx::query!(
        r#"select media_id, lower(file_name) as "name!", media_id::text as "id!" from media_item
           where team_id = $1 and deleted_at is null and (lower(file_name) = any($2) or media_id::text = any($2))
           order by created_at"#,
        team_id,
        &names
    )
    .fetch_all(pool)
    .await?;
    let mut by_name: HashMap<String, Vec<Uuid>> = HashMap::new();
    for item in found {
        if names.binary_search(&item.id).is_ok() {
            by_name.entry(item.id).or_default().push(item.media_id);
        }
        if names.binary_search(&item.name).is_ok() {
            by_name.entry(item.name).or_default().push(item.media_id);
        }
    }
    Ok(by_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PostContent` as it was serialized when the first files were imported.
    #[derive(Serialize)]
    struct FirstContent<'a> {
        text: &'a str,
        overrides: &'a [(Platform, String)],
        link: Option<&'a str>,
        thread: &'a [String],
        media: &'a [MediaChoice],
    }

    #[test]
    fn a_rows_key_is_what_it_was_before_posts_gained_fields() {
        let team = Uuid::from_u128(7);
        let content = PostContent::parse("Hello", [(Platform::X, "Hi X".to_owned())], "https://example.com/a", ["Two".to_owned()])
            .unwrap()
            .with_tracking(crate::link_tracking::LinkTracking { utm: None, short_links: true })
            .with_first_comments([(Platform::X, "A comment".to_owned())])
            .unwrap();
        let at = Some(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
        let first = FirstContent {
            text: &content.text,
            overrides: &content.overrides,
            link: content.link.as_deref(),
            thread: &content.thread,
            media: &content.media,
        };
        let canonical = serde_json::json!({ "v": 1, "team": team, "content": first, "accounts": [team], "at": at.map(|a| a.timestamp()) });
        assert_eq!(row_key(team, &content, &[], &[team], at), Sha256::digest(canonical.to_string().as_bytes()).to_vec());
    }
}
