//! Adapters layer (HTTP): the JSON bodies of the signed-in user's session list.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::core::auth::SessionView;
use crate::core::model::Page;

/// One live session (one signed-in device) of the signed-in user.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "Session")]
pub struct SessionBody {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// When its refresh token was last used (or the sign-in, if never).
    pub last_used_at: DateTime<Utc>,
    /// The `User-Agent` of the sign-in, if it sent one.
    pub user_agent: Nullable<String>,
    /// The client address of the sign-in, as the server saw it.
    pub ip: Nullable<String>,
    /// Whether this is the session of the access token making this request.
    pub current: bool,
}

impl From<SessionView> for SessionBody {
    fn from(session: SessionView) -> Self {
        SessionBody {
            id: session.id.as_uuid(),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            user_agent: session.client.user_agent.into(),
            ip: session.client.ip.into(),
            current: session.current,
        }
    }
}

/// A page of sessions, newest first.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "SessionPage")]
pub struct SessionPageBody {
    pub items: Vec<SessionBody>,
    /// Pass it as `cursor` to read the next page; `null` on the last one.
    pub next_cursor: Nullable<String>,
}

impl From<Page<SessionView>> for SessionPageBody {
    fn from(page: Page<SessionView>) -> Self {
        SessionPageBody {
            items: page.items.into_iter().map(SessionBody::from).collect(),
            next_cursor: page.next_cursor.into(),
        }
    }
}
