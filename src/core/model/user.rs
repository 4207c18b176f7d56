//! Core layer: user accounts, their roles and their status.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{Address, Email, Locale, Name, PasswordHash, Phone, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Courier,
    Manager,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Courier => "courier",
            Role::Manager => "manager",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client" => Ok(Role::Client),
            "courier" => Ok(Role::Courier),
            "manager" => Ok(Role::Manager),
            other => Err(format!("unknown role `{other}`")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// A self-registered courier waiting for a manager.
    PendingApproval,
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountStatus::PendingApproval => "pending_approval",
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
        }
    }

    /// The status a self-registered account starts in: couriers wait for a manager.
    pub fn on_registration(role: Role) -> Self {
        match role {
            Role::Courier => AccountStatus::PendingApproval,
            Role::Client | Role::Manager => AccountStatus::Active,
        }
    }
}

impl FromStr for AccountStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending_approval" => Ok(AccountStatus::PendingApproval),
            "active" => Ok(AccountStatus::Active),
            "suspended" => Ok(AccountStatus::Suspended),
            other => Err(format!("unknown account status `{other}`")),
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account. The password hash never leaves the core through a use-case result meant for
/// display: the HTTP adapter maps `User` to a view without it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub name: Name,
    pub email: Email,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
    pub role: Role,
    pub status: AccountStatus,
    pub password_hash: PasswordHash,
    pub email_verified_at: Option<DateTime<Utc>>,
    /// The language of every mail sent to the account.
    pub locale: Locale,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// Counts towards the rule that an active manager must always remain.
    pub fn is_active_manager(&self) -> bool {
        self.role == Role::Manager && self.status == AccountStatus::Active
    }
}
