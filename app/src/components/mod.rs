//! Reusable pieces of UI.

pub mod app_dialog;
pub mod countdown;
pub mod fields;
pub mod modal;
pub mod passkeys;
pub mod phone_dialog;
pub mod reauth;
pub mod recovery_dialog;
pub mod user_menu;
