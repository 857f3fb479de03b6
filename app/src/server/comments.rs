//! A post's comments and activity: add, edit and delete a comment (the author's own), and the
//! feed the post page and Compose (for a post not yet scheduled) show.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// One item of the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    /// When, in the viewer's zone.
    pub when: String,
    /// Who.
    pub who: String,
    /// The event in words, or the comment's text.
    pub words: String,
    /// A comment's id, when this is one.
    pub comment_id: Option<String>,
    /// Whether the viewer wrote the comment (and so may edit or delete it).
    pub own: bool,
    /// Whether the comment was edited.
    pub edited: bool,
}

/// The team's post `post_id`'s activity, oldest first.
#[server(prefix = "/api", endpoint = "posts/activity")]
pub async fn post_activity(post_id: String) -> Result<Vec<ActivityRow>, AppError> {
    use crier_domain::store::{comments, parse_id};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    Ok(comments::activity(&pool()?, &me, parse_id(&post_id)?)
        .await?
        .into_iter()
        .map(|a| ActivityRow {
            when: me.timezone.format(a.at),
            who: a.who,
            words: a.words,
            comment_id: a.comment.map(|(id, _, _)| id.to_string()),
            own: a.comment.is_some_and(|(_, own, _)| own),
            edited: a.comment.is_some_and(|(_, _, edited)| edited),
        })
        .collect())
}

/// "Comment": adds `body` to the post's activity (viewers may comment too: reading and talking
/// about a post changes nothing of it).
#[server(prefix = "/api", endpoint = "comments/add")]
pub async fn add_comment(post_id: String, body: String) -> Result<String, AppError> {
    use crier_domain::store::{comments, parse_id};

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        Ok::<_, AppError>(comments::add(&pool()?, &me, parse_id(&post_id)?, &body).await?.to_string())
    }
    .await;
    match outcome {
        Ok(id) => {
            notice_for_next_page(AddComment::PATH, "Comment added.").await;
            Ok(id)
        }
        Err(e) => fail_form(AddComment::PATH, e, &[("post_id", post_id.as_str()), ("body", body.as_str())]).await,
    }
}

/// "Save" on one's own comment.
#[server(prefix = "/api", endpoint = "comments/edit")]
pub async fn edit_comment(comment_id: String, body: String) -> Result<(), AppError> {
    use crier_domain::store::{comments, parse_id};

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        Ok::<_, AppError>(comments::edit(&pool()?, &me, parse_id(&comment_id)?, &body).await?)
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(EditComment::PATH, "Comment saved.").await;
            Ok(())
        }
        Err(e) => fail_form(EditComment::PATH, e, &[("comment_id", comment_id.as_str()), ("body", body.as_str())]).await,
    }
}

/// "Delete" on one's own comment.
#[server(prefix = "/api", endpoint = "comments/delete")]
pub async fn delete_comment(comment_id: String) -> Result<(), AppError> {
    use crier_domain::store::{comments, parse_id};

    use super::ssr::{current_member, notice_for_next_page, pool};
    let me = current_member().await?;
    comments::delete(&pool()?, &me, parse_id(&comment_id)?).await?;
    notice_for_next_page(DeleteComment::PATH, "Comment deleted.").await;
    Ok(())
}
