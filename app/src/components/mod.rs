//! Reusable pieces of UI.

pub mod fields;
pub mod phone_dialog;
pub mod user_menu;
