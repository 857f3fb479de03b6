//! Team settings: the retry policy that posts follow unless they set their own.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_domain::retry::RetryPolicy;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// The team's retry policy, and whether the viewer may change it (owners and admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRetryPolicy {
    /// The policy.
    pub policy: RetryPolicy,
    /// Whether the viewer may change it.
    pub can_manage: bool,
}

/// The team's retry policy.
#[server(prefix = "/api", endpoint = "settings/retries")]
pub async fn retry_settings() -> Result<TeamRetryPolicy, AppError> {
    use crier_domain::store::teams;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let policy = teams::retry_policy(&pool()?, me.team_id).await?;
    Ok(TeamRetryPolicy { policy, can_manage: me.role.can_manage_members() })
}

/// Changes the team's retry policy for posts scheduled from now on. Answers what it now means.
#[server(prefix = "/api", endpoint = "settings/set_retries")]
pub async fn set_retry_policy(max_attempts: String, first_retry_minutes: String) -> Result<String, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::teams;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        let policy = RetryPolicy::parse(&max_attempts, &first_retry_minutes).map_err(|e| AppError::Fields(vec![e]))?;
        teams::set_retry_policy(&pool()?, me.team_id, Actor::User(me.user_id), policy).await?;
        Ok(policy.describe())
    }
    .await;
    match outcome {
        Ok(meaning) => {
            notice_for_next_page(SetRetryPolicy::PATH, &format!("Saved. New posts: {meaning}")).await;
            Ok(meaning)
        }
        Err(e) => {
            let typed = [("max_attempts", max_attempts.as_str()), ("first_retry_minutes", first_retry_minutes.as_str())];
            fail_form(SetRetryPolicy::PATH, e, &typed).await
        }
    }
}

/// The team's retention, and whether the viewer may change it (owners and admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRetention {
    /// The days kept.
    pub retention: crier_domain::retention::Retention,
    /// Whether the viewer may change it.
    pub can_manage: bool,
}

/// The team's retention.
#[server(prefix = "/api", endpoint = "settings/retention")]
pub async fn retention_settings() -> Result<TeamRetention, AppError> {
    use crier_domain::store::retention;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let retention = retention::team(&pool()?, me.team_id).await?;
    Ok(TeamRetention { retention, can_manage: me.role.can_manage_members() })
}

/// Changes how long the team keeps attempts and its audit trail. Answers what it now means.
#[server(prefix = "/api", endpoint = "settings/set_retention")]
pub async fn set_retention(attempt_days: String, audit_days: String) -> Result<String, AppError> {
    use crier_domain::retention::Retention;
    use crier_domain::store::audit::Actor;
    use crier_domain::store::retention;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        let chosen = Retention::parse(&attempt_days, &audit_days).map_err(|e| AppError::Fields(vec![e]))?;
        retention::set(&pool()?, me.team_id, Actor::User(me.user_id), chosen).await?;
        Ok(chosen.describe())
    }
    .await;
    match outcome {
        Ok(meaning) => {
            notice_for_next_page(SetRetention::PATH, &format!("Saved. {meaning}")).await;
            Ok(meaning)
        }
        Err(e) => {
            let typed = [("attempt_days", attempt_days.as_str()), ("audit_days", audit_days.as_str())];
            fail_form(SetRetention::PATH, e, &typed).await
        }
    }
}
