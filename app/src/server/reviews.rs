//! Approvals: the team's settings (Settings), what waits for review and the decisions on it (the
//! Review page). Submitting is Compose's "Submit for review" (`posts::create_post`, intent `review`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_domain::approval::ApprovalPolicy;
use crier_platform::Platform;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// The team's approval settings, and whether the viewer may change them (owners and admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamApprovals {
    /// The settings.
    pub policy: ApprovalPolicy,
    /// Whether the viewer may change them.
    pub can_manage: bool,
}

/// The team's approval settings.
#[server(prefix = "/api", endpoint = "settings/approvals")]
pub async fn approval_settings() -> Result<TeamApprovals, AppError> {
    use crier_domain::store::reviews;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    Ok(TeamApprovals { policy: reviews::policy(&pool()?, me.team_id).await?, can_manage: me.role.can_manage_members() })
}

/// Changes the team's approval settings (owners and admins).
#[server(prefix = "/api", endpoint = "settings/set_approvals")]
pub async fn set_approval_policy(rule: String, approvals: String, approvers: String) -> Result<String, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::reviews;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        let policy = ApprovalPolicy::parse(&rule, &approvals, &approvers).map_err(|e| AppError::Fields(vec![e]))?;
        reviews::set_policy(&pool()?, me.team_id, Actor::User(me.user_id), policy).await?;
        Ok(policy.describe())
    }
    .await;
    match outcome {
        Ok(meaning) => {
            notice_for_next_page(SetApprovalPolicy::PATH, &format!("Saved. {meaning}")).await;
            Ok(meaning)
        }
        Err(e) => {
            let typed = [("rule", rule.as_str()), ("approvals", approvals.as_str()), ("approvers", approvers.as_str())];
            fail_form(SetApprovalPolicy::PATH, e, &typed).await
        }
    }
}

/// A post on the Review page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRow {
    /// The post.
    pub post_id: String,
    /// Its text, whole: the approver reads what goes out.
    pub text: String,
    /// When it is planned for, in the viewer's zone.
    pub planned: String,
    /// Who wrote it.
    pub author: String,
    /// The accounts it is for.
    pub accounts: Vec<(Platform, String)>,
    /// "1 of 2 approvals".
    pub progress: String,
    /// Why the viewer cannot decide on it (their own post, already decided, not an approver).
    pub cannot_decide: Option<String>,
}

/// The Review page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPageData {
    /// What waits, oldest first.
    pub posts: Vec<ReviewRow>,
    /// The team's settings in words.
    pub policy: String,
}

/// What waits for review in the team, oldest first.
#[server(prefix = "/api", endpoint = "reviews")]
pub async fn review_page() -> Result<ReviewPageData, AppError> {
    use crier_domain::store::reviews;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let pool = pool()?;
    let policy = reviews::policy(&pool, me.team_id).await?;
    let approver = policy.may_approve(me.role);
    let posts = reviews::in_review(&pool, &me)
        .await?
        .into_iter()
        .map(|p| ReviewRow {
            post_id: p.post_id.to_string(),
            text: p.text,
            planned: p.planned_at.map_or_else(|| "No time planned".to_owned(), |at| me.timezone.format(at)),
            author: p.author.unwrap_or_else(|| "Someone who left the team".to_owned()),
            accounts: p.accounts,
            progress: format!("{} of {} approvals", p.approvals, policy.approvals),
            cannot_decide: if p.own {
                Some("Your own post: another approver decides on it.".to_owned())
            } else if p.decided {
                Some("You have decided on this version.".to_owned())
            } else if !approver {
                Some("Your role does not approve posts in this team.".to_owned())
            } else {
                None
            },
        })
        .collect();
    Ok(ReviewPageData { posts, policy: policy.describe() })
}

/// "Approve" or "Request changes" (`decision`: `approve` or `changes`) on a post in review, with a
/// comment (required to request changes). Answers what happened.
#[server(prefix = "/api", endpoint = "reviews/decide")]
pub async fn decide_post(post_id: String, decision: String, #[server(default)] comment: String) -> Result<String, AppError> {
    use crier_domain::store::parse_id;
    use crier_domain::store::reviews::{self, Decided, Decision};

    use super::ssr::{current_member, fail_form, media, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        let decision = match decision.as_str() {
            "approve" => Decision::Approve,
            "changes" => Decision::RequestChanges,
            _ => return Err(AppError::Fields(vec![crier_domain::FieldError::new("decision", "Approve it, or request changes.")])),
        };
        let decided = reviews::decide(&pool()?, &me, parse_id(&post_id)?, decision, &comment, &media()?.rules).await?;
        Ok(match decided {
            Decided::Waiting { approvals, needed } => format!("Approved: {approvals} of {needed} approvals so far."),
            Decided::Scheduled(at) => format!("Approved and scheduled for {}.", me.timezone.format_with_utc(at)),
            Decided::Approved(why) => why,
            Decided::ChangesRequested => "Sent back to its author with your comment.".to_owned(),
        })
    }
    .await;
    match outcome {
        Ok(said) => {
            notice_for_next_page(DecidePost::PATH, &said).await;
            Ok(said)
        }
        Err(e) => fail_form(DecidePost::PATH, e, &[("post_id", post_id.as_str()), ("comment", comment.as_str())]).await,
    }
}
