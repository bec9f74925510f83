//! Who the caller is: `GET /v1/me`, the party its token belongs to, as far as that party may
//! see itself (its id, name, role and coalition). It takes no parameter, so it can name no
//! other party: the answer comes from the caller's own authenticated party alone.

use crate::http::{Caller, ErrorBody};
use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_store::{Party, Role};
use serde::Serialize;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new().route("/v1/me", get(get_me))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(get_me), components(schemas(Me, MyRole)))]
pub(crate) struct Doc;

/// What a party may do: report and file (`party`), only watch (`observer`), or run the
/// service (`admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MyRole {
    Party,
    Observer,
    Admin,
}

impl From<Role> for MyRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Party => MyRole::Party,
            Role::Observer => MyRole::Observer,
            Role::Admin => MyRole::Admin,
        }
    }
}

/// Your own party.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Your party's id: the `party` of your audit entries and receipts.
    pub id: i64,
    /// Your party's name: what a report's `party`, a hotline address and a constraint's
    /// `binds` call you.
    pub name: String,
    pub role: MyRole,
    /// The coalition your party belongs to (its lead's name), or null.
    #[schema(required = true)]
    pub member_of: Option<String>,
}

impl From<&Party> for Me {
    fn from(p: &Party) -> Self {
        Me {
            id: p.id.get(),
            name: p.name.clone(),
            role: p.role.into(),
            member_of: p.member_of.clone(),
        }
    }
}

/// Who you are: the party your token belongs to (its id, name, role and coalition). Nothing
/// about any other party.
#[utoipa::path(get, path = "/v1/me",
    responses((status = 200, body = Me, description = "your own party"),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_me(caller: Caller) -> Json<Me> {
    Json(Me::from(&caller.0))
}
