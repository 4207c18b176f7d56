//! Adapters layer (HTTP): the JSON bodies of the `Users` operations and of `DELETE /me`. A
//! user view never carries a password hash or any other secret; request bodies refuse unknown
//! fields, so nothing else about an account can be smuggled into a change of access.

use poem_openapi::Object;

use crate::adapters::http::fields::Nullable;
use crate::adapters::http::fields::Optional;
use crate::adapters::http::fields::Text;
pub use crate::adapters::http::me::dto::UserView;
use crate::core::model::{Page, User};
use crate::core::people::ChangeAccessRequest;

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
    pub role: Optional<Text>,
    /// `pending_approval`, `active` or `suspended`. `active` approves a courier;
    /// `suspended` (or `pending_approval`) ends every session of the user at once.
    pub status: Optional<Text>,
}

impl From<ChangeUserBody> for ChangeAccessRequest {
    fn from(body: ChangeUserBody) -> Self {
        ChangeAccessRequest {
            role: body.role.into_option().map(String::from),
            status: body.status.into_option().map(String::from),
        }
    }
}
