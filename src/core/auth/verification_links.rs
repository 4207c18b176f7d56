//! Core layer: mailing an email-verification link — a fresh single-use token, stored as its
//! digest, and the mail carrying it. Shared by registration (the first link, a resend) and
//! sign-in (a correct password on an unverified address quietly re-mails it).

use std::sync::Arc;

use crate::core::model::{Mail, MailMessage, OneTimeToken, TokenPurpose, User};
use crate::core::notifier::Notifier;
use crate::core::policy::AuthPolicy;
use crate::core::ports::{Clock, OneTimeTokenStore, SecretDigester, SecretGenerator};

/// Issues verification links.
#[derive(Clone)]
pub struct VerificationLinks {
    tokens: Arc<dyn OneTimeTokenStore>,
    secrets: Arc<dyn SecretGenerator>,
    digester: Arc<dyn SecretDigester>,
    clock: Arc<dyn Clock>,
    notifier: Notifier,
    policy: AuthPolicy,
}

impl VerificationLinks {
    pub fn new(
        tokens: Arc<dyn OneTimeTokenStore>,
        secrets: Arc<dyn SecretGenerator>,
        digester: Arc<dyn SecretDigester>,
        clock: Arc<dyn Clock>,
        notifier: Notifier,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            tokens,
            secrets,
            digester,
            clock,
            notifier,
            policy,
        }
    }

    /// Stores a new verification token for `user` and mails its link to the user's address.
    pub async fn send(&self, user: &User) -> Result<(), anyhow::Error> {
        let secret = self.secrets.url_token();
        let now = self.clock.now();
        let token = OneTimeToken {
            digest: self.digester.digest(&verification_text(&secret)),
            purpose: TokenPurpose::VerifyEmail,
            user_id: user.id,
            created_at: now,
            expires_at: now + self.policy.verification_ttl,
        };
        self.tokens.insert_token(&token).await?;
        self.notifier
            .send(Mail::to_user(
                user,
                MailMessage::VerifyEmail {
                    token: secret,
                    valid_hours: self.policy.verification_ttl.num_hours(),
                },
            ))
            .await;
        Ok(())
    }

    /// The digest text of a verification secret, for consuming it.
    pub(super) fn digest_text(secret: &str) -> String {
        verification_text(secret)
    }
}

/// Domain-separates verification tokens from every other digested secret.
fn verification_text(secret: &str) -> String {
    format!("verify-email|{secret}")
}
