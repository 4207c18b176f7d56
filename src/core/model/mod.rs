//! Core layer: domain types that parse untrusted input once and are valid ever after.

mod audit;
mod challenge;
mod client_network;
mod device;
mod email;
mod ids;
mod locale;
mod lockout;
mod mail;
mod one_time_token;
mod order;
mod outbox;
mod page;
mod password;
mod principal;
mod product;
mod profile;
mod rate_window;
mod second_factor;
mod secret;
mod session;
mod user;
mod validation;
mod workflow;

pub use audit::{AuditEvent, AuditFilter, AuditKind};
pub use challenge::{LoginChallenge, SecondFactor};
pub use device::RememberedDevice;
pub use email::{Email, EmailError};
pub use ids::{AuditEventId, ChallengeId, DeviceId, OrderId, ProductId, SessionId, UserId};
pub use locale::{Locale, UnknownLocale};
pub use lockout::{AttemptVerdict, ThrottleRecord};
pub use mail::{Mail, MailMessage, OrderReceipt, ReceiptLine};
pub use one_time_token::{OneTimeToken, TokenPurpose};
pub use order::{
    AmountOverflow, DeliveryAddress, DeliveryCode, DeliveryCodeError, MoveReason, Order,
    OrderFilter, OrderLine, OrderNote, OrderTotals, PlacedBetween, Quantity, QuantityError,
    StatusChange, total_of,
};
pub use outbox::{ClaimedMail, OutboxMailId, OutboxStatus, QueuedMail, SealedMail};
pub use page::{Page, PageRequest};
pub use password::{Password, PasswordError, PasswordHash};
pub use principal::{Caller, Manager, NotAManager, Principal};
pub use product::{
    Currency, PriceCents, Product, ProductChanges, ProductDescription, ProductFilter, ProductName,
    ProductSearch,
};
pub use profile::{Address, Name, Phone, ProfileChanges, TextError};
pub use rate_window::{FixedWindowLimit, RateKey, RateVerdict, RateWindow};
pub use second_factor::{SealedTotpSecret, TotpEnrolment, TotpProvisioning};
pub use secret::{SecretDigest, secrets_match};
pub use session::{ClientInfo, RefreshToken, Session};
pub use user::{AccountStatus, Role, User};
pub use validation::{FieldError, ValidationErrors};
pub use workflow::{MoveRefusal, MoveRequirements, OrderStatus, Party, decide};
