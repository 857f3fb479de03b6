//! Client review links: the team's list (Settings → Review links: create, revoke) and the page a
//! link opens for someone outside the team (`/r/<token>`: the posts as each platform will show
//! them, Approve or Request changes with a comment). The link's page needs no account and reads
//! nothing but its own posts.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// A link in the team's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRow {
    /// Its id.
    pub link_id: String,
    /// Its label.
    pub label: String,
    /// What it shares, in words (with a link to the post for one post).
    pub scope: String,
    /// "Works until …", "Expired …" or "Revoked …".
    pub status: String,
    /// Whether it still works (and so may be revoked).
    pub live: bool,
}

/// Settings → Review links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLinksPageData {
    /// Newest first.
    pub links: Vec<LinkRow>,
    /// Whether the viewer may create and revoke links (owners and admins).
    pub can_manage: bool,
}

/// The team's review links.
#[server(prefix = "/api", endpoint = "review_links")]
pub async fn review_links_page() -> Result<ReviewLinksPageData, AppError> {
    use crier_domain::store::review_links::{self, Scope};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let now = chrono::Utc::now();
    let links = review_links::list(&pool()?, &me)
        .await?
        .into_iter()
        .map(|l| LinkRow {
            link_id: l.link_id.to_string(),
            label: l.label,
            scope: match l.scope {
                Scope::Post(id) => format!("The post {id}"),
                Scope::Range(from, until) => format!("Posts due from {} to {}", me.timezone.format(from), me.timezone.format(until)),
            },
            status: match l.revoked_at {
                Some(at) => format!("Revoked {}", me.timezone.format(at)),
                None if l.expires_at <= now => format!("Expired {}", me.timezone.format(l.expires_at)),
                None => format!("Works until {}", me.timezone.format(l.expires_at)),
            },
            live: l.revoked_at.is_none() && l.expires_at > now,
        })
        .collect();
    Ok(ReviewLinksPageData { links, can_manage: me.role.can_manage_members() })
}

/// "Create link": for one post (`post_id`) or the posts due between two local days (`from`,
/// `until`, inclusive), living `days` days. The page comes back with the link to copy, shown once.
#[server(prefix = "/api", endpoint = "review_links/create")]
pub async fn create_review_link(
    label: String,
    #[server(default)] post_id: String,
    #[server(default)] from: String,
    #[server(default)] until: String,
    #[server(default)] days: String,
) -> Result<String, AppError> {
    use crier_domain::FieldError;
    use crier_domain::store::parse_id;
    use crier_domain::store::review_links::{self, Scope};

    use super::ssr::{current_member, fail_form, keep_secrets_for_next_page, pool, state};
    let outcome = async {
        let me = current_member().await?;
        let field = |name: &str, message: &str| AppError::Fields(vec![FieldError::new(name, message)]);
        let day =
            |raw: &str, name: &str| chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| field(name, "Choose a day."));
        let scope = if !post_id.trim().is_empty() {
            Scope::Post(parse_id(&post_id)?)
        } else {
            let start =
                |d: chrono::NaiveDate| me.timezone.schedule_time(&format!("{d}T00:00"), None).map_err(|e| AppError::Fields(vec![e]));
            Scope::Range(
                start(day(&from, "from")?)?,
                start(day(&until, "until")?.succ_opt().ok_or_else(|| field("until", "Choose a day."))?)?,
            )
        };
        let days = days.trim().parse::<i64>().unwrap_or(14);
        let (_, token) = review_links::create(&pool()?, &me, &label, scope, days).await?;
        Ok::<_, AppError>((format!("{}/r/{}", state()?.public_base, token.expose()), me))
    }
    .await;
    match outcome {
        Ok((url, me)) => {
            // A token, like an invite's: the page after a plain post shows it once, sealed until then.
            keep_secrets_for_next_page(CreateReviewLink::PATH, &me, &[("link_url", &url)]).await;
            Ok(url)
        }
        Err(e) => {
            let typed = [
                ("label", label.as_str()),
                ("post_id", post_id.as_str()),
                ("from", from.as_str()),
                ("until", until.as_str()),
                ("days", days.as_str()),
            ];
            fail_form(CreateReviewLink::PATH, e, &typed).await
        }
    }
}

/// "Revoke": the link stops working at once.
#[server(prefix = "/api", endpoint = "review_links/revoke")]
pub async fn revoke_review_link(link_id: String) -> Result<(), AppError> {
    use crier_domain::store::{parse_id, review_links};

    use super::ssr::{current_member, notice_for_next_page, pool};
    let me = current_member().await?;
    review_links::revoke(&pool()?, &me, parse_id(&link_id)?).await?;
    notice_for_next_page(RevokeReviewLink::PATH, "Link revoked: it no longer opens.").await;
    Ok(())
}

/// One post on a link's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedPost {
    /// The post.
    pub post_id: String,
    /// When it goes out (UTC, as the reader's zone is not known).
    pub when: String,
    /// Its previews, drawn by the server.
    pub previews: String,
}

/// What a link opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLink {
    /// The link's label.
    pub label: String,
    /// Until when it works (UTC).
    pub until: String,
    /// Its posts.
    pub posts: Vec<SharedPost>,
}

/// The page a review link opens; `None` for a link that does not work (unknown, expired or
/// revoked: the same answer for each).
#[server(prefix = "/api", endpoint = "r/view")]
pub async fn shared_page(token: super::PasswordField) -> Result<Option<SharedLink>, AppError> {
    use crier_domain::store::review_links;
    use crier_domain::timezone::TimeZone;

    use super::posts::ComposeAccount;
    use super::ssr::pool;
    let pool = pool()?;
    let Some(link) = review_links::open(&pool, &token.0).await? else { return Ok(None) };
    let mut posts = Vec::with_capacity(link.post_ids.len());
    for post_id in &link.post_ids {
        let shared = review_links::shared(&pool, &link, *post_id).await?;
        // Pictures and media are served to the team's session only: the reviewer sees the
        // letters and the media's kinds.
        let accounts = shared
            .accounts
            .into_iter()
            .map(|(platform, name, handle)| ComposeAccount {
                account_id: String::new(),
                platform,
                name,
                handle,
                picture: None,
                warning: None,
            })
            .collect();
        posts.push(SharedPost {
            post_id: post_id.to_string(),
            when: shared.at.map_or_else(|| "No time chosen yet".to_owned(), |at| TimeZone::UTC.format(at)),
            previews: super::preview::render_previews(&shared.content, &[], accounts),
        });
    }
    Ok(Some(SharedLink { label: link.label, until: TimeZone::UTC.format(link.expires_at), posts }))
}

/// Approve or Request changes (`decision`: `approve` or `changes`) on one of a link's posts.
#[server(prefix = "/api", endpoint = "r/decide")]
pub async fn shared_decide(
    token: super::PasswordField,
    post_id: String,
    decision: String,
    #[server(default)] comment: String,
) -> Result<String, AppError> {
    use crier_domain::store::{parse_id, review_links};

    use super::ssr::{fail_form, notice_for_next_page, pool};
    let outcome = async {
        let pool = pool()?;
        let link = review_links::open(&pool, &token.0).await?.ok_or(AppError::NotFound)?;
        review_links::decide(&pool, &link, parse_id(&post_id)?, decision == "approve", &comment).await?;
        Ok::<_, AppError>(if decision == "approve" {
            "Thank you: the team sees your approval.".to_owned()
        } else {
            "Thank you: the team sees what to change.".to_owned()
        })
    }
    .await;
    match outcome {
        Ok(said) => {
            notice_for_next_page(SharedDecide::PATH, &said).await;
            Ok(said)
        }
        Err(e) => fail_form(SharedDecide::PATH, e, &[("post_id", post_id.as_str()), ("comment", comment.as_str())]).await,
    }
}
