//! Adapters layer (SQLite): the `users` table behind `UserStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, named_params};

use super::SqliteStore;
use super::columns::{
    column, millis, optional_millis, optional_text_column, optional_time_column, parsed_column,
    text_column, time_column,
};
use super::criteria::Criteria;
use crate::core::model::{
    Address, Email, Locale, Name, PageRequest, PasswordHash, Phone, ProfileChanges, User, UserId,
};
use crate::core::ports::{
    AccessChange, AccessChangeOutcome, DeleteUserOutcome, InsertUserError, StoreError, UserFilter,
    UserStore,
};

const USER_COLUMNS: &str = "id, name, email, phone, address, role, status, password_hash, \
                            email_verified_at, locale, created_at, updated_at";

fn user_from_row(row: &Row<'_>) -> anyhow::Result<User> {
    Ok(User {
        id: parsed_column(row, "id")?,
        name: text_column(row, "name", Name::parse)?,
        email: text_column(row, "email", Email::parse)?,
        phone: optional_text_column(row, "phone", Phone::parse)?,
        address: optional_text_column(row, "address", Address::parse)?,
        role: parsed_column(row, "role")?,
        status: parsed_column(row, "status")?,
        password_hash: PasswordHash::from_phc(column(row, "password_hash")?),
        email_verified_at: optional_time_column(row, "email_verified_at")?,
        locale: parsed_column(row, "locale")?,
        created_at: time_column(row, "created_at")?,
        updated_at: time_column(row, "updated_at")?,
    })
}

/// The guard of `change_access` and `delete_user`, as SQL: true unless the row is an active
/// manager and no other active manager exists. Evaluated inside the writing statement, which
/// SQLite runs under its single write lock (taken before the statement reads anything), so
/// two concurrent demotions cannot both see the other manager as still active.
const ANOTHER_ACTIVE_MANAGER: &str = "EXISTS (SELECT 1 FROM users AS other
                                              WHERE other.role = 'manager'
                                                AND other.status = 'active'
                                                AND other.id <> users.id)";

pub(super) fn user_with_id(
    connection: &rusqlite::Connection,
    id: UserId,
) -> anyhow::Result<Option<User>> {
    query_user(
        connection,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id.to_string()],
    )
}

/// Runs a query expected to return at most one user.
fn query_user(
    connection: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> anyhow::Result<Option<User>> {
    connection
        .prepare_cached(sql)?
        .query_row(params, |row| Ok(user_from_row(row)))
        .optional()?
        .transpose()
}

/// The listing's statement for the criteria present (see `criteria.rs`): by role and status
/// it walks `users_role_status_id`, by role `users_role_id`, by status `users_status_id`,
/// unfiltered the primary key. A search is a substring test, which no index serves: it reads
/// down the chosen index until a page matches. `instr` rather than LIKE, so `%` and `_` in a
/// search are plain characters; SQLite's `lower` folds ASCII only, which the listing documents.
fn listing(filter: &UserFilter, page: PageRequest) -> (String, Criteria) {
    let criteria = Criteria::new()
        .and_some(
            "role = :role",
            ":role",
            filter.role.map(|role| role.as_str()),
        )
        .and_some(
            "status = :status",
            ":status",
            filter.status.map(|status| status.as_str()),
        )
        .and_some(
            "(instr(email, :search) > 0 OR instr(lower(name), :search) > 0)",
            ":search",
            filter.search.clone(),
        )
        // Ids are lower-case hyphenated UUID v7 text, so text order is creation order.
        .and_some(
            "id < :before",
            ":before",
            page.before.map(|id| id.to_string()),
        );
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users{} ORDER BY id DESC LIMIT :limit",
        criteria.where_clause()
    );
    (sql, criteria)
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError> {
        let user = user.clone();
        // `ON CONFLICT (email) DO NOTHING` turns the unique index's verdict into "no row
        // inserted" — atomic, and without parsing SQLite's error messages. Any other
        // conflict (a reused id) is still an error.
        let inserted = self
            .run("inserting a user", move |connection| {
                let inserted = connection
                    .prepare_cached(
                        "INSERT INTO users (id, name, email, phone, address, role, status,
                                            password_hash, email_verified_at, locale,
                                            created_at, updated_at)
                         VALUES (:id, :name, :email, :phone, :address, :role, :status,
                                 :password_hash, :email_verified_at, :locale, :created_at,
                                 :updated_at)
                         ON CONFLICT (email) DO NOTHING",
                    )?
                    .execute(named_params! {
                        ":id": user.id.to_string(),
                        ":name": user.name.as_str(),
                        ":email": user.email.as_str(),
                        ":phone": user.phone.as_ref().map(Phone::as_str),
                        ":address": user.address.as_ref().map(Address::as_str),
                        ":role": user.role.as_str(),
                        ":status": user.status.as_str(),
                        ":password_hash": user.password_hash.as_str(),
                        ":email_verified_at": optional_millis(user.email_verified_at),
                        ":locale": user.locale.tag(),
                        ":created_at": millis(user.created_at),
                        ":updated_at": millis(user.updated_at),
                    })?;
                Ok(inserted == 1)
            })
            .await?;
        if inserted {
            Ok(())
        } else {
            Err(InsertUserError::EmailTaken)
        }
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.read("reading a user by id", move |connection| {
            user_with_id(connection, id)
        })
        .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let email = email.clone();
        self.read("reading a user by email", move |connection| {
            query_user(
                connection,
                &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1"),
                [email.as_str()],
            )
        })
        .await
    }

    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run("marking an email verified", move |connection| {
            connection
                .prepare_cached(
                    "UPDATE users SET email_verified_at = ?2
                     WHERE id = ?1 AND email_verified_at IS NULL",
                )?
                .execute((id.to_string(), millis(at)))?;
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
        let hash = hash.as_str().to_owned();
        self.run("setting a password hash", move |connection| {
            let updated = connection
                .prepare_cached(
                    "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
                )?
                .execute((id.to_string(), hash, millis(at)))?;
            Ok(updated == 1)
        })
        .await
    }

    async fn update_profile(
        &self,
        id: UserId,
        changes: &ProfileChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let changes = changes.clone();
        // One statement, so the returned user is exactly what this update left. A `:set_*`
        // flag says whether a field is present: a present `None` must clear the column, which
        // a NULL parameter alone could not tell apart from "absent".
        self.run("updating a profile", move |connection| {
            query_user(
                connection,
                &format!(
                    "UPDATE users SET
                         name = CASE WHEN :set_name THEN :name ELSE name END,
                         phone = CASE WHEN :set_phone THEN :phone ELSE phone END,
                         address = CASE WHEN :set_address THEN :address ELSE address END,
                         locale = COALESCE(:locale, locale),
                         updated_at = :updated_at
                     WHERE id = :id
                     RETURNING {USER_COLUMNS}"
                ),
                named_params! {
                    ":id": id.to_string(),
                    ":set_name": changes.name.is_some(),
                    ":name": changes.name.as_ref().map(Name::as_str),
                    ":set_phone": changes.phone.is_some(),
                    ":phone": changes.phone.as_ref().and_then(Option::as_ref).map(Phone::as_str),
                    ":set_address": changes.address.is_some(),
                    ":address": changes.address.as_ref().and_then(Option::as_ref).map(Address::as_str),
                    ":locale": changes.locale.map(Locale::tag),
                    ":updated_at": millis(at),
                },
            )
        })
        .await
    }

    async fn list_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        let (sql, criteria) = listing(filter, page);
        let limit = page.fetch_limit() as i64;
        self.run("listing users", move |connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement
                .query_map(criteria.params(&[(":limit", &limit)]).as_slice(), |row| {
                    Ok(user_from_row(row))
                })?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn change_access(
        &self,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> Result<AccessChangeOutcome, StoreError> {
        // One conditional UPDATE carries the guard; when it changes nothing, a read tells a
        // missing user from a refused change.
        self.run("changing a user's role and status", move |connection| {
            let changed = query_user(
                connection,
                &format!(
                    "UPDATE users SET
                         role = coalesce(:role, role),
                         status = coalesce(:status, status),
                         updated_at = :updated_at
                     WHERE id = :id
                       AND (NOT (role = 'manager' AND status = 'active')
                            OR (coalesce(:role, role) = 'manager'
                                AND coalesce(:status, status) = 'active')
                            OR {ANOTHER_ACTIVE_MANAGER})
                     RETURNING {USER_COLUMNS}"
                ),
                named_params! {
                    ":id": id.to_string(),
                    ":role": change.role.map(|role| role.as_str()),
                    ":status": change.status.map(|status| status.as_str()),
                    ":updated_at": millis(at),
                },
            )?;
            if let Some(user) = changed {
                return Ok(AccessChangeOutcome::Changed(user));
            }
            Ok(if exists(connection, id)? {
                AccessChangeOutcome::LastActiveManager
            } else {
                AccessChangeOutcome::NotFound
            })
        })
        .await
    }

    async fn delete_user(&self, id: UserId) -> Result<DeleteUserOutcome, StoreError> {
        // The foreign keys' `ON DELETE CASCADE` removes the user's tokens, challenges and
        // sessions in the same statement; `orders` and `audit_events` have no foreign key to
        // users, so their records stay.
        self.run("deleting a user", move |connection| {
            let deleted = connection
                .prepare_cached(&format!(
                    "DELETE FROM users
                     WHERE id = ?1
                       AND (NOT (role = 'manager' AND status = 'active')
                            OR {ANOTHER_ACTIVE_MANAGER})"
                ))?
                .execute([id.to_string()])?;
            Ok(if deleted == 1 {
                DeleteUserOutcome::Deleted
            } else if exists(connection, id)? {
                DeleteUserOutcome::LastActiveManager
            } else {
                DeleteUserOutcome::NotFound
            })
        })
        .await
    }
}

fn exists(connection: &rusqlite::Connection, id: UserId) -> anyhow::Result<bool> {
    Ok(connection
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .exists([id.to_string()])?)
}

#[cfg(test)]
mod tests {
    use super::super::criteria::{migrated_connection, query_plan};
    use super::*;
    use crate::core::model::{AccountStatus, Role};

    /// Each filter of the managers' listing walks its index from the cursor down without
    /// sorting. (A search adds a substring test to that walk; no index serves one.)
    #[test]
    fn every_listing_shape_walks_its_index_without_sorting() {
        let connection = migrated_connection();
        let role = Some(Role::Courier);
        let status = Some(AccountStatus::Active);
        let search = Some("amina".to_owned());
        let shapes = [
            (UserFilter::default(), "sqlite_autoindex_users_1"),
            (
                UserFilter {
                    role,
                    ..UserFilter::default()
                },
                "users_role_id",
            ),
            (
                UserFilter {
                    status,
                    ..UserFilter::default()
                },
                "users_status_id",
            ),
            (
                UserFilter {
                    role,
                    status,
                    ..UserFilter::default()
                },
                "users_role_status_id",
            ),
            (
                UserFilter {
                    role,
                    search,
                    ..UserFilter::default()
                },
                "users_role_id",
            ),
        ];
        for (filter, index) in shapes {
            for before in [None, Some(uuid::Uuid::now_v7())] {
                let page = PageRequest { limit: 20, before };
                let plan = query_plan(&connection, &listing(&filter, page).0);

                assert!(
                    plan.contains(&format!("USING INDEX {index}")),
                    "{filter:?} {before:?}: {plan}"
                );
                assert!(
                    !plan.contains("TEMP B-TREE"),
                    "sorts instead of walking: {plan}"
                );
            }
        }
    }
}
