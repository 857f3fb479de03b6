//! Building blocks shared by the pages.

pub mod form;
pub mod shell;
