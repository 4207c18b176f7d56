//! Core layer: the signed-in user's own account — reading and editing their details.

use std::sync::Arc;

use thiserror::Error;

use super::model::{Address, Locale, Name, Phone, ProfileChanges, User, UserId, ValidationErrors};
use super::ports::{Clock, UserStore};
use super::unexpected::port_failures_are_unexpected;

/// A profile edit as submitted: `None` leaves a field alone, `Some(None)` clears an optional
/// one (phone, address).
#[derive(Debug, Clone, Default)]
pub struct UpdateProfileRequest {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<String>>,
    /// A published language tag (`fr`, `en`).
    pub locale: Option<String>,
}

#[derive(Debug, Error)]
pub enum ProfileError {
    /// The account no longer exists (deleted while the token was still live).
    #[error("account not found")]
    NotFound,
    #[error("invalid profile: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(ProfileError);

#[derive(Clone)]
pub struct ProfileService {
    users: Arc<dyn UserStore>,
    clock: Arc<dyn Clock>,
}

impl ProfileService {
    pub fn new(users: Arc<dyn UserStore>, clock: Arc<dyn Clock>) -> Self {
        Self { users, clock }
    }

    pub async fn me(&self, user_id: UserId) -> Result<User, ProfileError> {
        self.users
            .user_by_id(user_id)
            .await?
            .ok_or(ProfileError::NotFound)
    }

    pub async fn update(
        &self,
        user_id: UserId,
        request: UpdateProfileRequest,
    ) -> Result<User, ProfileError> {
        let changes = validate(&request).map_err(ProfileError::Invalid)?;
        if changes.is_empty() {
            return self.me(user_id).await;
        }
        self.users
            .update_profile(user_id, &changes, self.clock.now())
            .await?
            .ok_or(ProfileError::NotFound)
    }
}

fn validate(request: &UpdateProfileRequest) -> Result<ProfileChanges, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let changes = ProfileChanges {
        name: request
            .name
            .as_deref()
            .and_then(|raw| errors.check("name", Name::parse(raw))),
        phone: match &request.phone {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.check("phone", Phone::parse(raw)).map(Some),
        },
        address: match &request.address {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.check("address", Address::parse(raw)).map(Some),
        },
        locale: request.locale.as_deref().and_then(|raw| {
            let locale = raw.parse::<Locale>().map_err(|_| {
                let tags: Vec<&str> = Locale::ALL.iter().map(|locale| locale.tag()).collect();
                format!("must be one of: {}", tags.join(", "))
            });
            errors.check("locale", locale)
        }),
    };
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}
