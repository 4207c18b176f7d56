//! Core layer: registration, email verification, and the operator's provisioning of a
//! manager. Talks to the world only through the ports it holds.

use std::sync::Arc;

use thiserror::Error;

use super::verification_links::VerificationLinks;
use crate::core::audit::AuditTrail;
use crate::core::model::{
    AccountStatus, AuditKind, ClientInfo, Email, Locale, Mail, MailMessage, Name, Password, Phone,
    Role, TokenPurpose, User, UserId, ValidationErrors,
};
use crate::core::notifier::Notifier;
use crate::core::ports::{
    Clock, InsertUserError, OneTimeTokenStore, PasswordHashing, SecretDigester, UserStore,
};
use crate::core::unexpected::port_failures_are_unexpected;

/// A registration as submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct RegisterRequest {
    pub name: String,
    pub email: String,
    pub password: String,
    /// `client` when absent; `manager` is never self-assigned.
    pub role: Option<String>,
    pub phone: Option<String>,
    /// The language the person's mails are written in (from the request's
    /// `Accept-Language`; the default language when it names none the service speaks).
    pub locale: Locale,
    pub client: ClientInfo,
}

#[derive(Debug, Error)]
pub enum RegisterError {
    #[error("invalid registration: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum VerifyEmailError {
    /// Unknown, already used or expired — deliberately not told apart.
    #[error("invalid or expired token")]
    InvalidToken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum CreateManagerError {
    #[error("invalid manager account: {0}")]
    Invalid(ValidationErrors),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(RegisterError, VerifyEmailError, CreateManagerError);

struct ValidRegistration {
    name: Name,
    email: Email,
    password: Password,
    role: Role,
    phone: Option<Phone>,
    locale: Locale,
}

fn validate(request: &RegisterRequest) -> Result<ValidRegistration, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", Name::parse(&request.name));
    let email = errors.check("email", Email::parse(&request.email));
    let context = [request.name.as_str(), request.email.as_str()];
    let password = errors.check("password", Password::parse(&request.password, &context));
    let role = match request.role.as_deref() {
        None | Some("client") => Some(Role::Client),
        Some("courier") => Some(Role::Courier),
        Some(_) => {
            errors.add("role", "must be `client` or `courier`");
            None
        }
    };
    let phone = match request.phone.as_deref() {
        None => Some(None),
        Some(raw) => errors.check("phone", Phone::parse(raw)).map(Some),
    };
    match (name, email, password, role, phone) {
        (Some(name), Some(email), Some(password), Some(role), Some(phone)) if errors.is_empty() => {
            Ok(ValidRegistration {
                name,
                email,
                password,
                role,
                phone,
                locale: request.locale,
            })
        }
        _ => Err(errors),
    }
}

/// What is left of a registration once the account is stored (or found taken): the mails
/// and the security event. The account row is the part that must be durable before the
/// answer; this part differs between a new and a taken address, so the HTTP adapter does it
/// after answering, where its time cannot tell the two apart.
#[derive(Debug, Clone)]
pub struct RegistrationFollowUp {
    outcome: RegistrationOutcome,
    client: ClientInfo,
}

#[derive(Debug, Clone)]
enum RegistrationOutcome {
    /// A new account: mail its verification link.
    Created(User),
    /// The address already has an account: warn its owner.
    Taken(Email),
}

/// The ports registration uses.
#[derive(Clone)]
pub struct RegistrationPorts {
    pub users: Arc<dyn UserStore>,
    pub tokens: Arc<dyn OneTimeTokenStore>,
    pub passwords: Arc<dyn PasswordHashing>,
    pub digester: Arc<dyn SecretDigester>,
    pub clock: Arc<dyn Clock>,
}

/// New accounts: self-registration with email verification, and managers provisioned by the
/// operator.
#[derive(Clone)]
pub struct Registration {
    ports: RegistrationPorts,
    links: VerificationLinks,
    notifier: Notifier,
    audit: AuditTrail,
}

impl Registration {
    pub fn new(
        ports: RegistrationPorts,
        links: VerificationLinks,
        notifier: Notifier,
        audit: AuditTrail,
    ) -> Self {
        Self {
            ports,
            links,
            notifier,
            audit,
        }
    }

    /// Registers an account and mails a verification link: `start_registration` then
    /// `finish_registration`, one after the other.
    pub async fn register(&self, request: RegisterRequest) -> Result<(), RegisterError> {
        let follow_up = self.start_registration(request).await?;
        Ok(self.finish_registration(follow_up).await?)
    }

    /// Validates the registration, hashes the password and stores the account. Does the same
    /// work whether or not the address already has an account — the hash included, so that
    /// timing tells nothing — and answers the same; what differs is in the follow-up.
    pub async fn start_registration(
        &self,
        request: RegisterRequest,
    ) -> Result<RegistrationFollowUp, RegisterError> {
        let valid = validate(&request).map_err(RegisterError::Invalid)?;
        let status = AccountStatus::on_registration(valid.role);
        let user = self.new_account(valid, status, None).await?;
        let outcome = match self.ports.users.insert_user(&user).await {
            Ok(()) => RegistrationOutcome::Created(user),
            Err(InsertUserError::EmailTaken) => RegistrationOutcome::Taken(user.email),
            Err(InsertUserError::Store(error)) => return Err(error.into()),
        };
        Ok(RegistrationFollowUp {
            outcome,
            client: request.client,
        })
    }

    /// Mails the new account its verification link and records its registration, or warns
    /// the owner of a taken address that someone tried to register with it.
    pub async fn finish_registration(
        &self,
        follow_up: RegistrationFollowUp,
    ) -> Result<(), anyhow::Error> {
        match follow_up.outcome {
            RegistrationOutcome::Created(user) => {
                let registered = AuditKind::Registered
                    .about(user.id)
                    .detail(format!("role={}", user.role));
                self.audit.record(registered, &follow_up.client).await;
                self.send_verification(&user).await
            }
            RegistrationOutcome::Taken(email) => self.warn_owner_of(&email).await,
        }
    }

    /// Provisions an active manager whose address the operator vouches for (the CLI's
    /// `create-manager`): no verification mail, no approval. Unlike self-registration, it says
    /// plainly when the email is taken — the operator already has access to the database.
    pub async fn create_manager(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<User, CreateManagerError> {
        let request = RegisterRequest {
            name: name.to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            role: None,
            phone: None,
            locale: Locale::default(),
            client: ClientInfo::default(),
        };
        let mut valid = validate(&request).map_err(CreateManagerError::Invalid)?;
        valid.role = Role::Manager;
        let now = self.ports.clock.now();
        let manager = self
            .new_account(valid, AccountStatus::Active, Some(now))
            .await?;
        match self.ports.users.insert_user(&manager).await {
            Ok(()) => {
                let provisioned = AuditKind::Registered
                    .about(manager.id)
                    .detail("role=manager source=command_line");
                self.audit.record(provisioned, &request.client).await;
                Ok(manager)
            }
            Err(InsertUserError::EmailTaken) => Err(CreateManagerError::EmailTaken),
            Err(InsertUserError::Store(error)) => Err(error.into()),
        }
    }

    /// Marks the address of the token's user verified. Single use, valid 24 hours.
    pub async fn verify_email(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<(), VerifyEmailError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 256 {
            return Err(VerifyEmailError::InvalidToken);
        }
        let digest = self
            .ports
            .digester
            .digest(&VerificationLinks::digest_text(token));
        let now = self.ports.clock.now();
        let user_id = self
            .ports
            .tokens
            .consume_token(&digest, TokenPurpose::VerifyEmail, now)
            .await?
            .ok_or(VerifyEmailError::InvalidToken)?;
        self.ports.users.mark_email_verified(user_id, now).await?;
        self.audit
            .record(AuditKind::EmailVerified.about(user_id), client)
            .await;
        Ok(())
    }

    /// Mails a new verification link if the address has an unverified account. Says nothing
    /// about whether it does: invalid and unknown addresses are silently ignored.
    pub async fn resend_verification(&self, email: &str) -> Result<(), anyhow::Error> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        match self.ports.users.user_by_email(&email).await? {
            Some(user) if !user.email_verified() => self.send_verification(&user).await,
            _ => Ok(()),
        }
    }

    /// A new account from validated details, with its password hashed (off the async workers,
    /// by the hashing port).
    async fn new_account(
        &self,
        valid: ValidRegistration,
        status: AccountStatus,
        email_verified_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<User, anyhow::Error> {
        let password_hash = self.ports.passwords.hash(&valid.password).await?;
        let now = self.ports.clock.now();
        Ok(User {
            id: UserId::new(),
            name: valid.name,
            email: valid.email,
            phone: valid.phone,
            address: None,
            role: valid.role,
            status,
            password_hash,
            email_verified_at,
            locale: valid.locale,
            created_at: now,
            updated_at: now,
        })
    }

    async fn send_verification(&self, user: &User) -> Result<(), anyhow::Error> {
        self.links.send(user).await
    }

    async fn warn_owner_of(&self, email: &Email) -> Result<(), anyhow::Error> {
        if let Some(owner) = self.ports.users.user_by_email(email).await? {
            self.notifier
                .send(Mail::to_user(&owner, MailMessage::RegistrationAttempt))
                .await;
        }
        Ok(())
    }
}
