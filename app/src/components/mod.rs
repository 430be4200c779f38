//! Reusable pieces of UI.

pub mod fields;
pub mod user_menu;
