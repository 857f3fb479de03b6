//! Building blocks shared by the pages.

pub mod form;
pub mod retry;
pub mod shell;
