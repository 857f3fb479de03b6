//! One-time keys of rendered forms, so that a form posted twice (a double click on a plain form, a
//! POST the browser retries after a timeout, the back button and resubmit) does its work once.
//!
//! Each form that creates something (a post, a batch, an invitation, a token, a webhook) carries a
//! random key rendered with it. The first submission with a key records it before doing the work
//! and the result after; a second one finds it and answers the first's result instead of doing the
//! work again (waiting, if the first is still at work). A submission whose work failed gives its
//! key back, so the person can correct the form and send it again. Keys are kept a day.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::{DomainError, FieldError};

/// What a form key says about a submission.
#[derive(Debug)]
pub enum Submission {
    /// The first with this key: do the work, then [`finish`] (or [`give_back`] on failure).
    First,
    /// Sent before, and this was the result.
    Done(String),
}

/// A key is random text of 16 to 64 characters (the form renders 32 hex digits).
fn check(key: &str) -> Result<&str, DomainError> {
    let key = key.trim();
    if !(16..=64).contains(&key.chars().count()) || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldError::new("form_key", "This form is out of date: reload the page and send it again.").into());
    }
    Ok(key)
}

/// How long a submission may be at work before another with its key takes over (the first one's
/// process died mid-way).
const IN_FLIGHT_FOR: Duration = Duration::from_secs(60);

/// Starts a submission of the form keyed `key` by `user_id`.
pub async fn begin(pool: &PgPool, key: &str, user_id: Uuid) -> Result<Submission, DomainError> {
    let key = check(key)?;
    // Up to IN_FLIGHT_FOR waiting for a first submission still at work, looking every 100 ms.
    for _ in 0..(IN_FLIGHT_FOR.as_millis() / 100) {
        let taken = sqlx::query_scalar!(
            r#"insert into form_submission (form_key, user_id, result) values ($1, $2, '')
               on conflict (form_key) do update set created_at = now(), result = ''
                   -- Take over a submission whose process stopped mid-way.
                   where form_submission.result = '' and form_submission.created_at < now() - make_interval(secs => $3)
                     and form_submission.user_id = $2
               returning form_key"#,
            key,
            user_id,
            IN_FLIGHT_FOR.as_secs_f64()
        )
        .fetch_optional(pool)
        .await?;
        if taken.is_some() {
            return Ok(Submission::First);
        }
        let earlier = sqlx::query!("select user_id, result from form_submission where form_key = $1", key).fetch_optional(pool).await?;
        match earlier {
            // Given back meanwhile: try to take it again.
            None => continue,
            // Another person's key (a copied page): refused like a stale form.
            Some(row) if row.user_id != user_id => {
                return Err(FieldError::new("form_key", "This form is out of date: reload the page and send it again.").into());
            }
            Some(row) if !row.result.is_empty() => return Ok(Submission::Done(row.result)),
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Err(DomainError::Internal("a form submission stayed in flight too long".into()))
}

/// Records the result of the first submission (what a second one answers).
pub async fn finish(pool: &PgPool, key: &str, result: &str) -> Result<(), DomainError> {
    // Never empty: an empty result means "at work".
    let result = if result.is_empty() { "done" } else { result };
    sqlx::query!("update form_submission set result = $2 where form_key = $1", key.trim(), result).execute(pool).await?;
    Ok(())
}

/// Gives the key back after the work failed, so the corrected form can be sent with it.
pub async fn give_back(pool: &PgPool, key: &str) -> Result<(), DomainError> {
    sqlx::query!("delete from form_submission where form_key = $1 and result = ''", key.trim()).execute(pool).await?;
    Ok(())
}
