//! Notifications beyond the bell: what each member turned off, a team's chat channels (Slack and
//! Microsoft Teams incoming webhooks), the queue of messages owed to them (emails and chat posts,
//! written by `notification_enqueue` in the transaction that records the event), and the watch
//! that warns a team when its due posts wait unclaimed.
//!
//! The queue is claimed by recipient: a member's pending emails (or a channel's pending posts) are
//! taken together, so a burst of events becomes one digest. A message waits `gather` after it is
//! written before it is claimed, so that a burst has time to gather. Sending is
//! `crier_publisher::notify`'s; the rest of the life of a message (retries with backoff, rescue of a
//! stopped sender's claims, pruning) is here, as for webhook calls.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde_json::json;
use sha256::Sha256;
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::webhooks::WebhookUrl;
use super::{Member, notifications::About};
use crate::field_error::FieldError;
use crate::notification::{Channel, ChatService, NotificationKind};
use crate::{DomainError, timezone::TimeZone};
use crier_vault::Vault;

/// The most chat channels a team can have.
pub const MAX_CHAT_HOOKS: i64 = 10;
/// The most messages of one recipient sent together (one email, one chat post): more wait for the
/// next claim.
pub const MAX_PER_PARCEL: usize = 50;

// ---------------------------------------------------------------------------------------------
// What a member turned off.

/// What `me` turned off: (kind, channel) pairs. Everything else is on.
pub async fn muted(pool: &PgPool, me: &Member) -> Result<BTreeSet<(NotificationKind, Channel)>, DomainError> {
    let rows = sqlx::query!("select kind, channel from notification_mute where user_id = $1", me.user_id).fetch_all(pool).await?;
    Ok(rows.into_iter().filter_map(|r| Some((NotificationKind::parse(&r.kind)?, Channel::parse(&r.channel)?))).collect())
}

/// Sets what `me` turns off to exactly `off`, in one transaction.
pub async fn set_muted(pool: &PgPool, me: &Member, off: &BTreeSet<(NotificationKind, Channel)>) -> Result<(), DomainError> {
    let kinds: Vec<String> = off.iter().map(|(k, _)| k.as_str().to_owned()).collect();
    let channels: Vec<String> = off.iter().map(|(_, c)| c.as_str().to_owned()).collect();
    let mut tx = pool.begin().await?;
    sqlx::query!("delete from notification_mute where user_id = $1", me.user_id).execute(&mut *tx).await?;
    sqlx::query!(
        "insert into notification_mute (user_id, kind, channel) select $1, k, c from unnest($2::text[], $3::text[]) as m (k, c)",
        me.user_id,
        &kinds,
        &channels
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Turns off `kind` by email for the person `user_id` (an email's unsubscribe link). Answers
/// whether they are still a member (a departed member has nothing to turn off).
pub async fn unsubscribe(pool: &PgPool, user_id: Uuid, kind: NotificationKind) -> Result<bool, DomainError> {
    let member = sqlx::query_scalar!(
        r#"with member as (select user_id from app_user where user_id = $1),
                muted as (insert into notification_mute (user_id, kind, channel) select user_id, $2, 'email' from member on conflict do nothing)
           select count(*) as "count!" from member"#,
        user_id,
        kind.as_str()
    )
    .fetch_one(pool)
    .await?;
    Ok(member > 0)
}

/// Signs and checks the links in emails that turn one kind of email off, without signing in:
/// `/unsubscribe?u=<user>&k=<kind>&s=<base64url HMAC-SHA256>`, under a key derived from the
/// vault's current key for this purpose alone (a key rotation ends older links; the settings page
/// still works).
pub struct UnsubscribeLinks {
    /// The current vault key's first (it signs), then the older keys' (links in emails sent
    /// before a rotation keep working).
    keys: Vec<SecretBox<[u8; 32]>>,
}

impl std::fmt::Debug for UnsubscribeLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeLinks { .. }")
    }
}

impl UnsubscribeLinks {
    /// The signer for an installation's vault.
    pub fn new(vault: &Vault) -> Self {
        UnsubscribeLinks { keys: vault.derive_keys("unsubscribe links") }
    }

    fn mac(key: &SecretBox<[u8; 32]>, user_id: Uuid, kind: NotificationKind) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret()).expect("HMAC takes a key of any length");
        mac.update(format!("{user_id}/{}", kind.as_str()).as_bytes());
        mac
    }

    /// The path and query (after the public URL) that turns `kind` off by email for `user_id`.
    pub fn path(&self, user_id: Uuid, kind: NotificationKind) -> String {
        let signature = URL_SAFE_NO_PAD.encode(Self::mac(&self.keys[0], user_id, kind).finalize().into_bytes());
        format!("/unsubscribe?u={user_id}&k={}&s={signature}", kind.as_str())
    }

    /// The person and kind a link names, if its signature is this installation's.
    pub fn check(&self, user: &str, kind: &str, signature: &str) -> Option<(Uuid, NotificationKind)> {
        let user_id = Uuid::parse_str(user).ok()?;
        let kind = NotificationKind::parse(kind)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.keys.iter().any(|key| Self::mac(key, user_id, kind).verify_slice(&signature).is_ok()).then_some((user_id, kind))
    }
}

// ---------------------------------------------------------------------------------------------
// A team's chat channels.

/// A chat channel as listed (never its URL, which is its credential).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatHook {
    /// Its id.
    pub hook_id: Uuid,
    /// Slack or Teams.
    pub service: ChatService,
    /// The team's name for it.
    pub label: String,
    /// Scheme and host, the rest hidden.
    pub url_hint: String,
    /// What it is told of.
    pub kinds: Vec<NotificationKind>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// What to add: parsed from the form.
pub struct NewChatHook {
    /// Slack or Teams.
    pub service: ChatService,
    /// The team's name for it.
    pub label: String,
    /// The incoming webhook's URL.
    pub url: WebhookUrl,
    /// What it is told of.
    pub kinds: Vec<NotificationKind>,
}

impl NewChatHook {
    /// Parses the form: `allow_http` is CRIER_WEBHOOKS_ALLOW_HTTP (the same rules as webhooks).
    pub fn parse(service: &str, label: &str, url: &str, kinds: &[String], allow_http: bool) -> Result<NewChatHook, Vec<FieldError>> {
        let mut problems = Vec::new();
        let service = ChatService::parse(service);
        if service.is_none() {
            problems.push(FieldError::new("service", "Choose Slack or Microsoft Teams."));
        }
        let label = label.trim().to_owned();
        if label.is_empty() || label.chars().count() > 80 {
            problems.push(FieldError::new("label", "Name the channel in 1 to 80 characters, e.g. “#social”."));
        }
        let url = WebhookUrl::parse(url, allow_http).map_err(|e| problems.push(e)).ok();
        let parsed: Vec<NotificationKind> = kinds.iter().filter_map(|k| NotificationKind::parse(k)).filter(|k| k.for_chat()).collect();
        if parsed.is_empty() {
            problems.push(FieldError::new("kinds", "Choose at least one kind of notification to send to this channel."));
        }
        match (service, url) {
            (Some(service), Some(url)) if problems.is_empty() => Ok(NewChatHook { service, label, url, kinds: parsed }),
            _ => Err(problems),
        }
    }
}

fn hook_aad(team_id: Uuid, hook_id: Uuid) -> Vec<u8> {
    format!("chat_hook/{team_id}/{hook_id}").into_bytes()
}

/// Opens a channel's URL.
pub fn open_url(vault: &Vault, team_id: Uuid, hook_id: Uuid, sealed: &[u8]) -> Result<SecretString, DomainError> {
    vault.open(sealed, &hook_aad(team_id, hook_id)).map_err(|e| DomainError::SecretUnreadable(e.to_string()))
}

/// Adds a chat channel to `me`'s team (owners and admins), its URL sealed; records
/// `chat_hook_created` with the host only.
pub async fn add_chat_hook(pool: &PgPool, vault: &Vault, me: &Member, hook: &NewChatHook) -> Result<Uuid, DomainError> {
    me.require_manager()?;
    let hook_id = Uuid::new_v4();
    let sealed = vault.seal(&SecretString::from(hook.url.as_str().to_owned()), &hook_aad(me.team_id, hook_id));
    let hint = super::webhooks::masked_url(hook.url.as_str());
    let kinds: Vec<String> = hook.kinds.iter().map(|k| k.as_str().to_owned()).collect();
    let mut tx = pool.begin().await?;
    // Serialises additions per team, so two at once cannot both pass the limit.
    sqlx::query!("select team_id from team where team_id = $1 for update", me.team_id).fetch_one(&mut *tx).await?;
    let count =
        sqlx::query_scalar!(r#"select count(*) as "count!" from chat_hook where team_id = $1"#, me.team_id).fetch_one(&mut *tx).await?;
    if count >= MAX_CHAT_HOOKS {
        return Err(FieldError::new("url", format!("A team can have {MAX_CHAT_HOOKS} chat channels. Remove one first.")).into());
    }
    sqlx::query!(
        "insert into chat_hook (hook_id, team_id, service, label, url, url_hint, kinds, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        hook_id,
        me.team_id,
        hook.service.as_str(),
        hook.label,
        sealed,
        hint,
        &kinds,
        me.user_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "chat_hook_created",
        "chat_hook",
        Some(&hook_id.to_string()),
        json!({ "service": hook.service.as_str(), "label": hook.label, "host": hook.url.host(), "kinds": kinds }),
    )
    .await?;
    tx.commit().await?;
    Ok(hook_id)
}

/// The team's chat channels, oldest first.
pub async fn chat_hooks(pool: &PgPool, team_id: Uuid) -> Result<Vec<ChatHook>, DomainError> {
    let rows = sqlx::query!(
        "select hook_id, service, label, url_hint, kinds, created_at from chat_hook where team_id = $1 order by created_at, hook_id",
        team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(ChatHook {
                hook_id: r.hook_id,
                service: ChatService::parse(&r.service)?,
                label: r.label,
                url_hint: r.url_hint,
                kinds: r.kinds.iter().filter_map(|k| NotificationKind::parse(k)).collect(),
                created_at: r.created_at,
            })
        })
        .collect())
}

/// Removes one of the team's chat channels (owners and admins); what it was still owed goes with
/// it. Records `chat_hook_deleted`. Another team's id is not found.
pub async fn remove_chat_hook(pool: &PgPool, me: &Member, hook_id: Uuid) -> Result<(), DomainError> {
    me.require_manager()?;
    let mut tx = pool.begin().await?;
    let label = sqlx::query_scalar!("delete from chat_hook where team_id = $1 and hook_id = $2 returning label", me.team_id, hook_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "chat_hook_deleted",
        "chat_hook",
        Some(&hook_id.to_string()),
        json!({ "label": label }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The queue.

/// Who a parcel goes to.
pub enum Recipient {
    /// A member, by email.
    Email {
        /// The person.
        user_id: Uuid,
        /// Their address.
        address: String,
        /// The timezone they read times in.
        timezone: TimeZone,
    },
    /// A team's chat channel.
    Chat {
        /// The channel.
        hook_id: Uuid,
        /// Slack or Teams.
        service: ChatService,
        /// Its sealed URL: open with [`open_url`].
        sealed_url: Vec<u8>,
    },
}

/// One message in a parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owed {
    /// The message.
    pub message_id: i64,
    /// The attempt it was claimed with.
    pub attempt: i16,
    /// What it is about.
    pub about: About,
    /// When the event happened.
    pub at: DateTime<Utc>,
}

/// What one recipient is owed, claimed together: sent as one email or one chat post.
pub struct Parcel {
    /// The team.
    pub team_id: Uuid,
    /// Its name.
    pub team_name: String,
    /// Who.
    pub recipient: Recipient,
    /// What, oldest first (at most [`MAX_PER_PARCEL`]).
    pub messages: Vec<Owed>,
}

impl std::fmt::Debug for Parcel {
    /// Ids and counts only: an address is personal, a chat URL is a credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let to = match &self.recipient {
            Recipient::Email { user_id, .. } => format!("email to {user_id}"),
            Recipient::Chat { hook_id, service, .. } => format!("{} channel {hook_id}", service.as_str()),
        };
        f.debug_struct("Parcel").field("team_id", &self.team_id).field("to", &to).field("messages", &self.messages.len()).finish()
    }
}

/// Claims, for `worker`, the pending messages of up to `limit` recipients who have one due (its
/// retry time reached and `gather` passed since it was written), with every other pending message
/// of theirs, locked (skipping rows other senders hold), marked `sending`, each attempt counted.
pub async fn claim(pool: &PgPool, worker: &str, limit: i64, gather: Duration) -> Result<Vec<Parcel>, DomainError> {
    let rows = sqlx::query!(
        r#"with recipients as (
               select distinct channel, user_id, hook_id from (
                   select channel, user_id, hook_id from notification_message
                   where state = 'pending' and next_at <= now() and created_at <= now() - make_interval(secs => $3)
                   order by next_at
                   limit $2::int8 * 4
               ) due
               limit $2::int8
           ),
           picked as (
               select m.message_id from notification_message m
               join recipients r on m.channel = r.channel and m.user_id is not distinct from r.user_id and m.hook_id is not distinct from r.hook_id
               where m.state = 'pending'
               order by m.message_id
               for update of m skip locked
           ),
           claimed as (
               update notification_message m set state = 'sending', claimed_by = $1, claimed_at = now(), attempt = m.attempt + 1
               from picked where m.message_id = picked.message_id
               returning m.message_id, m.team_id, m.channel, m.user_id, m.hook_id, m.kind, m.entity_id, m.attempt, m.created_at
           )
           select c.message_id as "message_id!", c.team_id as "team_id!", c.channel as "channel!", c.user_id, c.hook_id,
                  c.kind as "kind!", c.entity_id, c.attempt as "attempt!", c.created_at as "created_at!",
                  u.email as "email?", u.timezone as "timezone?", h.service as "service?", h.url as "url?", t.name as team_name
           from claimed c
           join team t on t.team_id = c.team_id
           left join app_user u on u.user_id = c.user_id and u.team_id = c.team_id
           left join chat_hook h on h.hook_id = c.hook_id and h.team_id = c.team_id
           order by c.message_id"#,
        worker,
        limit,
        gather.as_secs_f64(),
    )
    .fetch_all(pool)
    .await?;
    let mut parcels: Vec<Parcel> = Vec::new();
    let mut spill: Vec<i64> = Vec::new();
    for r in rows {
        let key = r.user_id.or(r.hook_id);
        let owed =
            Owed { message_id: r.message_id, attempt: r.attempt, about: About { kind: r.kind, entity_id: r.entity_id }, at: r.created_at };
        let existing = parcels.iter_mut().find(|p| match &p.recipient {
            Recipient::Email { user_id, .. } => Some(*user_id) == key && r.channel == "email",
            Recipient::Chat { hook_id, .. } => Some(*hook_id) == key && r.channel == "chat",
        });
        if let Some(parcel) = existing {
            if parcel.messages.len() < MAX_PER_PARCEL {
                parcel.messages.push(owed);
            } else {
                spill.push(r.message_id);
            }
            continue;
        }
        let recipient = match (r.channel.as_str(), r.user_id, r.email, r.hook_id, r.service.as_deref().and_then(ChatService::parse), r.url)
        {
            ("email", Some(user_id), Some(address), _, _, _) => {
                Recipient::Email { user_id, address, timezone: r.timezone.as_deref().map_or(TimeZone::UTC, TimeZone::from_stored) }
            }
            ("chat", _, _, Some(hook_id), Some(service), Some(sealed_url)) => Recipient::Chat { hook_id, service, sealed_url },
            // Its recipient is gone (deleted with the row's foreign key, or moved team): cascades
            // remove the message; a leftover is released below and found gone next time.
            _ => {
                spill.push(r.message_id);
                continue;
            }
        };
        parcels.push(Parcel { team_id: r.team_id, team_name: r.team_name, recipient, messages: vec![owed] });
    }
    if !spill.is_empty() {
        // Beyond a parcel's size: back to the queue as they were, for the next claim.
        sqlx::query!(
            "update notification_message set state = 'pending', claimed_by = null, claimed_at = null, attempt = attempt - 1
             where message_id = any($1) and claimed_by = $2 and state = 'sending'",
            &spill,
            worker
        )
        .execute(pool)
        .await?;
    }
    Ok(parcels)
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The message.
    pub message_id: i64,
    /// The attempt it was claimed with (an outcome for an older claim is ignored).
    pub attempt: i16,
    /// `sent`, `pending` (a retry at `next_at`), `failed` or `dropped`.
    pub state: &'static str,
    /// When to try again (pending).
    pub next_at: Option<DateTime<Utc>>,
    /// Crier's words on a failure (never an address or a URL).
    pub error: Option<String>,
}

/// Writes a batch of outcomes for `worker`'s claims in one statement; answers how many applied
/// (one whose claim was rescued meanwhile is skipped).
pub async fn complete(pool: &PgPool, worker: &str, batch: &[Sent]) -> Result<u64, DomainError> {
    let ids: Vec<i64> = batch.iter().map(|o| o.message_id).collect();
    let attempts: Vec<i16> = batch.iter().map(|o| o.attempt).collect();
    let states: Vec<String> = batch.iter().map(|o| o.state.to_owned()).collect();
    let next: Vec<Option<DateTime<Utc>>> = batch.iter().map(|o| o.next_at).collect();
    let errors: Vec<Option<String>> = batch.iter().map(|o| o.error.clone()).collect();
    Ok(sqlx::query!(
        r#"update notification_message m set
               state = o.state, claimed_by = null, claimed_at = null, next_at = coalesce(o.next_at, m.next_at),
               last_error = o.error, sent_at = case when o.state = 'sent' then now() end
           from unnest($2::int8[], $3::int2[], $4::text[], $5::timestamptz[], $6::text[]) as o (message_id, attempt, state, next_at, error)
           where m.message_id = o.message_id and m.state = 'sending' and m.claimed_by = $1 and m.attempt = o.attempt"#,
        worker,
        &ids,
        &attempts,
        &states,
        &next as &[Option<DateTime<Utc>>],
        &errors as &[Option<String>],
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Puts back messages claimed longer than `stale_after` ago (their sender stopped), or fails
/// those that used up `max_attempts`. With `worker`, at once and only its own (it is stopping).
pub async fn requeue(pool: &PgPool, worker: Option<&str>, stale_after: Duration, max_attempts: i16) -> Result<u64, DomainError> {
    Ok(sqlx::query!(
        r#"update notification_message set
               state = case when attempt >= $3 then 'failed' else 'pending' end,
               last_error = case when attempt >= $3 then 'Its sender stopped during the last attempt.' else last_error end,
               claimed_by = null, claimed_at = null
           where state = 'sending' and (claimed_by = $1 or ($1 is null and claimed_at < now() - make_interval(secs => $2)))"#,
        worker,
        stale_after.as_secs_f64(),
        max_attempts
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// When the next pending message can be claimed (its retry time, and `gather` after it was
/// written), for an idle sender's sleep.
pub async fn next_due(pool: &PgPool, gather: Duration) -> Result<Option<DateTime<Utc>>, DomainError> {
    Ok(sqlx::query_scalar!(
        "select min(greatest(next_at, created_at + make_interval(secs => $1))) from notification_message where state = 'pending'",
        gather.as_secs_f64()
    )
    .fetch_one(pool)
    .await?)
}

/// Deletes finished messages older than `older_than`; answers how many.
pub async fn prune(pool: &PgPool, older_than: Duration) -> Result<u64, DomainError> {
    Ok(sqlx::query!(
        "delete from notification_message where state in ('sent', 'failed', 'dropped') and created_at < now() - make_interval(secs => $1)",
        older_than.as_secs_f64()
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// A team's messages, newest first, for its log (Settings → Notifications): kind, channel, state,
/// the last error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedMessage {
    /// `email` or `chat`.
    pub channel: String,
    /// The kind.
    pub kind: String,
    /// Its state.
    pub state: String,
    /// Attempts so far.
    pub attempt: i16,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    pub at: DateTime<Utc>,
}

/// The team's latest `limit` messages.
pub async fn log(pool: &PgPool, team_id: Uuid, limit: i64) -> Result<Vec<LoggedMessage>, DomainError> {
    Ok(sqlx::query_as!(
        LoggedMessage,
        r#"select channel, kind, state, attempt, last_error, created_at as at from notification_message
           where team_id = $1 order by message_id desc limit $2"#,
        team_id,
        limit
    )
    .fetch_all(pool)
    .await?)
}

// ---------------------------------------------------------------------------------------------
// Stalled publishing.

/// Warns each team whose oldest due delivery (of an account not paused on purpose) has waited
/// more than `max_age` unclaimed: records `publishing_stalled` once per stall, which tells its
/// owners and admins (and its chat channels). A team whose queue moves again is cleared, so the
/// next stall warns again. Run by every Crier process (web and worker), since a stall may be the
/// workers' death; answers how many teams were warned.
pub async fn watch_stalls(pool: &PgPool, max_age: Duration) -> Result<u64, DomainError> {
    let mut tx = pool.begin().await?;
    let waiting = sqlx::query!(
        r#"with stalled as (
               select d.team_id, min(d.next_attempt_at) as oldest
               from delivery d join platform_account a on a.account_id = d.account_id
               where d.state in ('scheduled', 'retrying') and d.next_attempt_at <= now() - make_interval(secs => $1)
                 and (a.paused_until is null or a.paused_until <= now())
               group by d.team_id
           ),
           cleared as (
               update team t set stall_warned_at = null
               where t.stall_warned_at is not null and not exists (select 1 from stalled s where s.team_id = t.team_id)
           )
           update team t set stall_warned_at = now()
           from stalled s where t.team_id = s.team_id and t.stall_warned_at is null
           returning t.team_id, s.oldest as "oldest!""#,
        max_age.as_secs_f64()
    )
    .fetch_all(&mut *tx)
    .await?;
    for team in &waiting {
        audit::record(
            &mut *tx,
            team.team_id,
            Actor::System,
            "publishing_stalled",
            "team",
            Some(&team.team_id.to_string()),
            json!({ "oldest_due": team.oldest }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(waiting.len() as u64)
}
