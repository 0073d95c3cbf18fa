//! API keys for admins at `/admin/api-keys`: every key (its first characters, role, last use)
//! with a revoke button. Keys are created with `tern api-key create`, which shows each once.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::AdminUser;
use crate::domain::order::utc_label as utc;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::api_keys::{self, ApiKey};
use crate::services::webhooks::endpoints::parse_id;
use crate::services::{Operator, Pool};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/api-keys", get(list)).route("/api-keys/{id}/revoke", post(revoke))
}

pub struct KeyLine {
    pub id: uuid::Uuid,
    pub name: String,
    pub role: &'static str,
    pub prefix: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

impl From<ApiKey> for KeyLine {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role.as_str(),
            prefix: k.prefix,
            created: utc(k.created_at),
            last_used: k.last_used_at.map(utc).unwrap_or_else(|| "never".into()),
            revoked: k.revoked_at.map(utc),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/api_keys.html")]
pub struct ApiKeysPage {
    pub ctx: PageContext,
    pub keys: Vec<KeyLine>,
}

async fn list(AdminUser(_): AdminUser, ctx: PageContext, State(pool): State<Pool>) -> Result<ApiKeysPage, HtmlError> {
    let keys = api_keys::list(&pool).await?.into_iter().map(KeyLine::from).collect();
    Ok(ApiKeysPage { ctx: ctx.titled("API keys"), keys })
}

async fn revoke(
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    api_keys::revoke(&pool, &Operator { user: &user, ip }, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/api-keys").into_response())
}
