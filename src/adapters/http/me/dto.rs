//! Adapters layer (HTTP): the JSON bodies of the `Me` operations. The account view never
//! carries a password hash; the edit body refuses unknown fields, so a user cannot change
//! their own role, status or verification through it.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::adapters::http::fields::Optional;
use crate::adapters::http::fields::Text;
use crate::core::model::{AccountStatus, Role, User};
use crate::core::profile::UpdateProfileRequest;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum RoleView {
    Client,
    Courier,
    Manager,
}

impl From<Role> for RoleView {
    fn from(role: Role) -> Self {
        match role {
            Role::Client => RoleView::Client,
            Role::Courier => RoleView::Courier,
            Role::Manager => RoleView::Manager,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum AccountStatusView {
    /// A self-registered courier waiting for a manager.
    PendingApproval,
    Active,
    /// Cannot sign in; every session was ended.
    Suspended,
}

impl From<AccountStatus> for AccountStatusView {
    fn from(status: AccountStatus) -> Self {
        match status {
            AccountStatus::PendingApproval => AccountStatusView::PendingApproval,
            AccountStatus::Active => AccountStatusView::Active,
            AccountStatus::Suspended => AccountStatusView::Suspended,
        }
    }
}

/// An account: the signed-in user's own (`/me`), or any account as a manager sees it
/// (`/users`). Never a password hash or another secret.
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
    /// The language of the account's mails: a BCP 47 tag the service speaks (`fr`, `en`).
    pub locale: String,
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
            locale: user.locale.tag().to_owned(),
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// Changes to the signed-in user's details. An absent field is left as it is.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateMeBody {
    /// 1 to 100 characters.
    pub name: Optional<Text>,
    /// 6 to 20 digits, optionally with a leading `+` and spaces, dots or dashes; `null` removes it.
    pub phone: Nullable<Text>,
    /// Up to 500 characters, possibly on several lines; `null` removes it.
    pub address: Nullable<Text>,
    /// The language of the account's mails: `fr` or `en`.
    pub locale: Optional<Text>,
}

impl From<UpdateMeBody> for UpdateProfileRequest {
    fn from(body: UpdateMeBody) -> Self {
        UpdateProfileRequest {
            name: body.name.into_option().map(String::from),
            phone: text_change(body.phone),
            address: text_change(body.address),
            locale: body.locale.into_option().map(String::from),
        }
    }
}

fn text_change(field: Nullable<Text>) -> Option<Option<String>> {
    field.into_change().map(|value| value.map(String::from))
}

/// The signed-in user's password, typed again to delete their account.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct DeleteMeBody {
    pub password: Text,
}
