//! One module per page.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod batch;
pub mod compose;
pub mod dashboard;
pub mod developers;
pub mod drafts;
pub mod import;
pub mod invite;
pub mod login;
pub mod media;
pub mod members;
pub mod not_found;
pub mod notification_settings;
pub mod notifications;
pub mod post;
pub mod queue;
pub mod review;
pub mod review_links;
pub mod security;
pub mod settings;
pub mod shared;
pub mod signup;
pub mod status;
pub mod webhooks;
