//! The account settings page's data.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub email: String,
    /// The verified phone number in national form (`090-1234-5678`), if any.
    pub phone: Option<String>,
    pub two_factor_enabled: bool,
}

#[server(prefix = "/api", endpoint = "account_overview", input = GetUrl)]
pub async fn get_account_overview() -> Result<AccountOverview, AppError> {
    use crate::server::{auth_session, db::users, web};

    web::finish(
        async {
            let state = web::state()?;
            let session = web::session().await?;
            let id = auth_session::require_user(&session).await?;
            let user = users::find_by_id(&state.db, id)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            Ok(AccountOverview { email: user.email, phone: None, two_factor_enabled: false })
        }
        .await,
    )
}
