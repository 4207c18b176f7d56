//! Adapters layer (HTTP): the JSON bodies of the `Users` operations and of `DELETE /me`. A
//! user view never carries a password hash or any other secret; request bodies refuse unknown
//! fields, so nothing else about an account can be smuggled into a change of access.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use super::me_dto::{AccountStatusView, RoleView};
use super::nullable::Nullable;
use super::text::Text;
use crate::core::model::{Page, User};
use crate::core::people::ChangeAccessRequest;

/// An account, as a manager sees it.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "User")]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub phone: Nullable<String>,
    /// Default delivery address.
    pub address: Nullable<String>,
    pub role: RoleView,
    pub status: AccountStatusView,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        let email_verified = user.email_verified();
        UserView {
            id: user.id.as_uuid(),
            name: user.name.to_string(),
            email: user.email.to_string(),
            phone: user.phone.map(|phone| phone.as_str().to_owned()).into(),
            address: user.address.map(|address| address.to_string()).into(),
            role: user.role.into(),
            status: user.status.into(),
            email_verified,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// One page of users, newest first.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "UserPage")]
pub struct UserPageView {
    pub items: Vec<UserView>,
    /// Pass it as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Nullable<String>,
}

impl From<Page<User>> for UserPageView {
    fn from(page: Page<User>) -> Self {
        UserPageView {
            items: page.items.into_iter().map(UserView::from).collect(),
            next_cursor: page.next_cursor.into(),
        }
    }
}

/// A change of role, status or both; at least one is required.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ChangeUserBody {
    /// `client`, `courier` or `manager`.
    pub role: Option<Text>,
    /// `pending_approval`, `active` or `suspended`. `active` approves a courier;
    /// `suspended` (or `pending_approval`) ends every session of the user at once.
    pub status: Option<Text>,
}

impl From<ChangeUserBody> for ChangeAccessRequest {
    fn from(body: ChangeUserBody) -> Self {
        ChangeAccessRequest {
            role: body.role.map(String::from),
            status: body.status.map(String::from),
        }
    }
}

/// The signed-in user's password, typed again to delete their account.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct DeleteMeBody {
    pub password: Text,
}
