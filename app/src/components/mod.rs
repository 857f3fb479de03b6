//! Building blocks shared by the pages.

pub mod activity;
pub mod attachments;
pub mod avatar;
pub mod chart;
pub mod form;
pub mod link_tracking;
pub mod live;
pub mod platform_icon;
#[cfg(feature = "ssr")]
pub mod preview;
pub mod retry;
pub mod shell;
pub mod thumbs;
