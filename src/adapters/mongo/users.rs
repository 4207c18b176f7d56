//! Adapters layer (MongoDB): the `users` collection behind `UserStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Document, doc};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::values::{
    bson_time, bson_uuid, domain_time, domain_uuid, optional_bson_time, optional_domain_time,
    optional_parsed_field, parsed_field,
};
use super::{MongoStore, indexes, run};
use crate::core::model::{
    Address, Email, Name, PageRequest, PasswordHash, Phone, ProfileChanges, User, UserId,
};
use crate::core::ports::{
    AccessChange, AccessChangeOutcome, DeleteUserOutcome, InsertUserError, StoreError, UserFilter,
    UserStore,
};

pub(super) const COLLECTION: &str = "users";

/// The server's code for a write refused by a unique index.
const DUPLICATE_KEY: i32 = 11000;

/// A user as stored. Every field is always present; an absent detail is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct UserDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    name: String,
    /// Normalised (trimmed, lower-cased) by the domain; unique index `email_unique`.
    email: String,
    phone: Option<String>,
    address: Option<String>,
    role: String,
    status: String,
    password_hash: String,
    email_verified_at: Option<bson::DateTime>,
    /// The language tag; documents written before languages existed have none, which reads
    /// as the default language.
    #[serde(default)]
    locale: Option<String>,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<&User> for UserDocument {
    fn from(user: &User) -> Self {
        Self {
            id: bson_uuid(user.id.as_uuid()),
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            phone: user.phone.as_ref().map(|phone| phone.as_str().to_owned()),
            address: user
                .address
                .as_ref()
                .map(|address| address.as_str().to_owned()),
            role: user.role.as_str().to_owned(),
            status: user.status.as_str().to_owned(),
            password_hash: user.password_hash.as_str().to_owned(),
            email_verified_at: optional_bson_time(user.email_verified_at),
            locale: Some(user.locale.tag().to_owned()),
            created_at: bson_time(user.created_at),
            updated_at: bson_time(user.updated_at),
        }
    }
}

impl TryFrom<UserDocument> for User {
    type Error = anyhow::Error;

    fn try_from(document: UserDocument) -> anyhow::Result<Self> {
        let id = UserId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<User> {
            Ok(User {
                id,
                name: parsed_field("name", &document.name, Name::parse)?,
                email: parsed_field("email", &document.email, Email::parse)?,
                phone: optional_parsed_field("phone", document.phone.as_deref(), Phone::parse)?,
                address: optional_parsed_field(
                    "address",
                    document.address.as_deref(),
                    Address::parse,
                )?,
                role: parsed_field("role", &document.role, str::parse)?,
                status: parsed_field("status", &document.status, str::parse)?,
                password_hash: PasswordHash::from_phc(document.password_hash.clone()),
                email_verified_at: optional_domain_time(
                    "email_verified_at",
                    document.email_verified_at,
                )?,
                locale: optional_parsed_field("locale", document.locale.as_deref(), str::parse)?
                    .unwrap_or_default(),
                created_at: domain_time("created_at", document.created_at)?,
                updated_at: domain_time("updated_at", document.updated_at)?,
            })
        };
        read().map_err(|error| error.context(format!("user document {id}")))
    }
}

pub(super) fn user_from(document: Option<UserDocument>) -> anyhow::Result<Option<User>> {
    document.map(User::try_from).transpose()
}

fn by_id(id: UserId) -> Document {
    doc! { "_id": bson_uuid(id.as_uuid()) }
}

/// Whether `error` is the unique email index refusing a second account. A duplicate `_id`
/// (a reused user id) is a bug, not a taken email, so the index is told apart by its name.
fn is_email_taken(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write_error)) => {
            names_the_email_index(write_error.code, &write_error.message)
        }
        _ => false,
    }
}

/// The server reports the index in its message, as
/// `E11000 duplicate key error collection: <db>.users index: email_unique dup key: {…}`; the
/// driver exposes no structured field for it.
fn names_the_email_index(code: i32, message: &str) -> bool {
    code == DUPLICATE_KEY && message.contains(&format!("index: {} ", indexes::USERS_EMAIL))
}

#[async_trait]
impl UserStore for MongoStore {
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError> {
        // The unique index decides, atomically in the server: of two concurrent inserts with
        // one email, the second is refused with a duplicate-key error.
        match self.users.insert_one(UserDocument::from(user)).await {
            Ok(_) => Ok(()),
            Err(error) if is_email_taken(&error) => Err(InsertUserError::EmailTaken),
            Err(error) => {
                Err(super::classify(anyhow::Error::new(error).context("inserting a user")).into())
            }
        }
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        run("reading a user by id", async {
            user_from(self.users.find_one(by_id(id)).await?)
        })
        .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        run("reading a user by email", async {
            user_from(
                self.users
                    .find_one(doc! { "email": email.as_str() })
                    .await?,
            )
        })
        .await
    }

    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        // `null` in a filter matches a null field: only the first verification is recorded.
        run("marking an email verified", async {
            self.users
                .update_one(
                    doc! { "_id": bson_uuid(id.as_uuid()), "email_verified_at": null },
                    doc! { "$set": { "email_verified_at": bson_time(at) } },
                )
                .await?;
            Ok(())
        })
        .await
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run("setting a password hash", async {
            let updated = self
                .users
                .update_one(
                    by_id(id),
                    doc! { "$set": {
                        "password_hash": hash.as_str(),
                        "updated_at": bson_time(at),
                    } },
                )
                .await?;
            Ok(updated.matched_count == 1)
        })
        .await
    }

    async fn update_profile(
        &self,
        id: UserId,
        changes: &ProfileChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        // One `find_one_and_update`, so the returned user is exactly what this update left.
        // A present `None` sets the field to `null`, as an absent detail is stored.
        let mut set = doc! { "updated_at": bson_time(at) };
        if let Some(name) = &changes.name {
            set.insert("name", name.as_str());
        }
        if let Some(phone) = &changes.phone {
            set.insert("phone", phone.as_ref().map(Phone::as_str));
        }
        if let Some(address) = &changes.address {
            set.insert("address", address.as_ref().map(Address::as_str));
        }
        if let Some(locale) = changes.locale {
            set.insert("locale", locale.tag());
        }
        run("updating a profile", async {
            user_from(
                self.users
                    .find_one_and_update(by_id(id), doc! { "$set": set })
                    .return_document(ReturnDocument::After)
                    .await?,
            )
        })
        .await
    }

    async fn list_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        run("listing users", self.find_users(filter, page)).await
    }

    async fn change_access(
        &self,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> Result<AccessChangeOutcome, StoreError> {
        run(
            "changing a user's role and status",
            self.guarded_change_access(id, change, at),
        )
        .await
    }

    async fn delete_user(&self, id: UserId) -> Result<DeleteUserOutcome, StoreError> {
        run("deleting a user", self.guarded_delete_user(id)).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mongodb::bson::Bson;

    use super::*;
    use crate::core::model::{AccountStatus, Role};

    fn a_user() -> User {
        let at = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();
        User {
            id: UserId::new(),
            name: Name::parse("Amina Alaoui").unwrap(),
            email: Email::parse("amina@example.com").unwrap(),
            phone: Some(Phone::parse("+212 6 12 34 56 78").unwrap()),
            address: None,
            role: Role::Courier,
            status: AccountStatus::PendingApproval,
            password_hash: PasswordHash::from_phc(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            ),
            email_verified_at: Some(at),
            locale: Default::default(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_user_round_trips_through_its_bson_document() {
        let user = a_user();

        let stored = bson::to_document(&UserDocument::from(&user)).unwrap();
        let read: UserDocument = bson::from_document(stored.clone()).unwrap();

        assert_eq!(User::try_from(read).unwrap(), user);
        assert!(matches!(stored.get("_id"), Some(Bson::Binary(_))));
        assert!(matches!(stored.get("created_at"), Some(Bson::DateTime(_))));
        assert_eq!(stored.get("address"), Some(&Bson::Null));
        assert_eq!(stored.get_str("email").unwrap(), "amina@example.com");
    }

    #[test]
    fn a_document_the_domain_refuses_is_an_error_naming_the_field() {
        let user = a_user();
        let mut document = UserDocument::from(&user);
        document.role = "pirate".to_owned();

        let error = User::try_from(document).unwrap_err();

        let chain = format!("{error:#}");
        assert!(
            chain.contains(&format!("user document {}", user.id)),
            "{chain}"
        );
        assert!(chain.contains("field `role`"), "{chain}");
    }

    #[test]
    fn a_document_missing_a_field_does_not_deserialize() {
        let mut stored = bson::to_document(&UserDocument::from(&a_user())).unwrap();
        stored.remove("status");

        let read = bson::from_document::<UserDocument>(stored);

        assert!(read.is_err());
    }

    /// A write error as the driver builds it from a server reply.
    fn write_error(code: i32, message: &str) -> Error {
        let write_error = bson::from_document(doc! { "code": code, "errmsg": message }).unwrap();
        Error::from(ErrorKind::Write(WriteFailure::WriteError(write_error)))
    }

    #[test]
    fn the_drivers_duplicate_key_error_on_the_email_index_is_recognised() {
        let on_email_message = "E11000 duplicate key error collection: allomedia.users index: email_unique \
             dup key: { email: \"amina@example.com\" }";
        let on_email = write_error(DUPLICATE_KEY, on_email_message);
        let on_id = write_error(
            DUPLICATE_KEY,
            "E11000 duplicate key error collection: allomedia.users index: _id_ dup key: \
             { _id: UUID(\"0190f5e4-0000-7000-8000-000000000000\") }",
        );
        let validation_failure = write_error(121, on_email_message);
        let unreachable = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));

        assert!(is_email_taken(&on_email));
        assert!(!is_email_taken(&on_id));
        assert!(!is_email_taken(&validation_failure));
        assert!(!is_email_taken(&unreachable));
    }
}
