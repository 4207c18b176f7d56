//! Adapters layer (SQLite): the schema, as an append-only list of migrations.
//! The database's `PRAGMA user_version` records how many have been applied.

use anyhow::{Context, bail};
use rusqlite::{Connection, TransactionBehavior};

/// Migration `n` (from 1) brings the schema from version `n - 1` to `n`. Never edit one that
/// has shipped: append a new one.
///
/// Times are INTEGER unix milliseconds UTC, ids TEXT UUIDs, digests 32-byte BLOBs. STRICT
/// tables refuse values of the wrong type, so a bug cannot store a time as text. Child tables
/// index `user_id`: sessions are listed and revoked by user, and the foreign keys' cascades
/// would otherwise scan the whole table for each deleted user.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE users (
        id                TEXT    NOT NULL PRIMARY KEY,
        name              TEXT    NOT NULL,
        -- normalised (trimmed, lower-cased) by the domain: one address, one account
        email             TEXT    NOT NULL,
        phone             TEXT,
        address           TEXT,
        role              TEXT    NOT NULL,
        status            TEXT    NOT NULL,
        password_hash     TEXT    NOT NULL,
        email_verified_at INTEGER,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX users_email ON users (email);

    CREATE TABLE one_time_tokens (
        digest      BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
        purpose     TEXT    NOT NULL,
        user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        consumed_at INTEGER
    ) STRICT;
    CREATE INDEX one_time_tokens_user_id ON one_time_tokens (user_id);

    CREATE TABLE login_challenges (
        id           TEXT    NOT NULL PRIMARY KEY,
        user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_digest  BLOB    NOT NULL CHECK (length(code_digest) = 32),
        code_sent_at INTEGER NOT NULL,
        attempts     INTEGER NOT NULL CHECK (attempts >= 0),
        expires_at   INTEGER NOT NULL,
        completed_at INTEGER
    ) STRICT;
    CREATE INDEX login_challenges_user_id ON login_challenges (user_id);

    CREATE TABLE sessions (
        id                 TEXT    NOT NULL PRIMARY KEY,
        user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        refresh_generation INTEGER NOT NULL CHECK (refresh_generation >= 0),
        rotated_at         INTEGER,
        created_at         INTEGER NOT NULL,
        last_used_at       INTEGER NOT NULL,
        expires_at         INTEGER NOT NULL,
        revoked_at         INTEGER,
        client_ip          TEXT,
        client_user_agent  TEXT
    ) STRICT;
    CREATE INDEX sessions_user_id ON sessions (user_id);
"#,
    // Second factors beyond email: one authenticator-app enrolment per user (its secret
    // sealed by the TOTP engine, never in clear) and the user's hashed recovery codes.
    r#"
    CREATE TABLE totp_enrolments (
        user_id        TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        sealed_secret  BLOB    NOT NULL,
        created_at     INTEGER NOT NULL,
        enabled_at     INTEGER,
        last_used_step INTEGER CHECK (last_used_step >= 0)
    ) STRICT;

    CREATE TABLE recovery_codes (
        user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        digest     BLOB    NOT NULL CHECK (length(digest) = 32),
        created_at INTEGER NOT NULL,
        used_at    INTEGER,
        PRIMARY KEY (user_id, digest)
    ) STRICT;
"#,
    // Managers' listing of users, newest first, filtered by role and status or by status alone
    // (an unfiltered listing walks the primary key). The last-active-manager guard counts
    // through `users_role_status_id` too.
    r#"
    CREATE INDEX users_role_status_id ON users (role, status, id);
    CREATE INDEX users_status_id ON users (status, id);
"#,
    r#"
    -- The catalogue. Lists walk the primary key (UUID v7 text sorts by creation time);
    -- orders copy name and price when placed, so no foreign key points here.
    CREATE TABLE products (
        id          TEXT    NOT NULL PRIMARY KEY,
        name        TEXT    NOT NULL,
        description TEXT,
        price_cents INTEGER NOT NULL CHECK (price_cents > 0),
        available   INTEGER NOT NULL CHECK (available IN (0, 1)),
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    ) STRICT;
"#,
    r#"
    -- Failure counters of `AttemptThrottleStore`, keyed by a keyed digest (no email in clear).
    -- Unknown emails get rows too, which is the point; `forgotten_at` lets them be purged.
    CREATE TABLE attempt_throttles (
        key          BLOB    NOT NULL PRIMARY KEY CHECK (length(key) = 32),
        attempts     INTEGER NOT NULL CHECK (attempts >= 0),
        locked_until INTEGER,
        next_lock_ms INTEGER NOT NULL CHECK (next_lock_ms >= 0),
        forgotten_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX attempt_throttles_forgotten_at ON attempt_throttles (forgotten_at);
"#,
    // Remembered devices: a keyed digest of each device token (never the token), bound to
    // its user. Listed by user newest first, hence the (user_id, id) index; found at login
    // by digest, which is unique.
    r#"
    CREATE TABLE remembered_devices (
        id                TEXT    NOT NULL PRIMARY KEY,
        user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_digest      BLOB    NOT NULL UNIQUE CHECK (length(token_digest) = 32),
        created_at        INTEGER NOT NULL,
        last_used_at      INTEGER,
        expires_at        INTEGER NOT NULL,
        client_ip         TEXT,
        client_user_agent TEXT
    ) STRICT;
    CREATE INDEX remembered_devices_user_id ON remembered_devices (user_id, id);
"#,
    r#"
    -- Orders. Lines and status history are JSON arrays: they are always read and written with
    -- their order, never queried apart, and the workflow's compare-and-set stays one UPDATE
    -- guarded by `version`. Lists filter by client or courier and walk ids newest first. No
    -- foreign key to users: an order is a business record that outlives a deleted account.
    CREATE TABLE orders (
        id               TEXT    NOT NULL PRIMARY KEY,
        client_id        TEXT    NOT NULL,
        courier_id       TEXT,
        status           TEXT    NOT NULL,
        lines            TEXT    NOT NULL,
        total_cents      INTEGER NOT NULL CHECK (total_cents >= 0),
        currency         TEXT    NOT NULL,
        delivery_address TEXT    NOT NULL,
        note             TEXT,
        delivery_code    TEXT    NOT NULL,
        delivery_code_attempts INTEGER NOT NULL CHECK (delivery_code_attempts >= 0),
        version          INTEGER NOT NULL CHECK (version >= 0),
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        history          TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX orders_client_id ON orders (client_id, id);
    CREATE INDEX orders_courier_id ON orders (courier_id, id);
    CREATE INDEX orders_status ON orders (status, id);
"#,
    // The security-event log, append-only. No foreign key to users: an event must outlive the
    // account it names (an investigation comes after the deletion), and a failed login on an
    // unknown email names no user at all. Listed newest first, by user, by kind or both: the
    // two indexes serve the filtered listings, the primary key the unfiltered one.
    r#"
    CREATE TABLE audit_events (
        id                TEXT    NOT NULL PRIMARY KEY,
        kind              TEXT    NOT NULL,
        at                INTEGER NOT NULL,
        user_id           TEXT,
        actor_id          TEXT,
        client_ip         TEXT,
        client_user_agent TEXT,
        detail            TEXT
    ) STRICT;
    CREATE INDEX audit_events_user_id ON audit_events (user_id, id DESC);
    CREATE INDEX audit_events_kind ON audit_events (kind, id DESC);
"#,
    // Request counts of the per-address limit on the account operations, one row per client
    // key and window, shared by every process on the file. Purged by `window_end` once the
    // window is over, so the table holds about one minute of client addresses.
    r#"
    CREATE TABLE rate_windows (
        key          TEXT    NOT NULL,
        window_start INTEGER NOT NULL,
        window_end   INTEGER NOT NULL,
        hits         INTEGER NOT NULL CHECK (hits >= 1),
        PRIMARY KEY (key, window_start)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX rate_windows_end ON rate_windows (window_end);
"#,
    // The managers' stats total the orders placed in a period (`created_at` in a range);
    // without this index each call reads every order.
    r#"
    CREATE INDEX orders_created_at ON orders (created_at);
"#,
    // The mail outbox. `body` (sealed) is NULL once the mail is delivered or given up;
    // `attempts` identifies the current claim. (The per-recipient table below was dropped by
    // a later migration.)
    r#"
    CREATE TABLE outbox_mails (
        id              TEXT    NOT NULL PRIMARY KEY,
        kind            TEXT    NOT NULL,
        body            BLOB,
        state           TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'abandoned')),
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        lease_until     INTEGER,
        created_at      INTEGER NOT NULL,
        finished_at     INTEGER
    ) STRICT;
    CREATE INDEX outbox_mails_due ON outbox_mails (state, next_attempt_at);
    CREATE INDEX outbox_mails_finished ON outbox_mails (finished_at)
        WHERE finished_at IS NOT NULL;
    CREATE TABLE outbox_recipient_windows (
        recipient    BLOB    NOT NULL,
        window_start INTEGER NOT NULL,
        mails        INTEGER NOT NULL,
        PRIMARY KEY (recipient, window_start)
    ) STRICT;
"#,
    // The per-recipient mail cap now counts in `rate_windows` (key `mail:<digest>`), like
    // the per-address request limit: one counting mechanism, not two.
    r#"
    DROP TABLE outbox_recipient_windows;
"#,
    // The language of each account's mails; accounts made before languages existed read
    // the default language, French.
    r#"
    ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'fr';
"#,
    // One index per shape of listing (see `criteria.rs`): each starts with the shape's
    // equalities and ends with `id`, so a page is a walk from the cursor down the index,
    // however many rows the table holds and however few match.
    r#"
    CREATE INDEX orders_client_status ON orders (client_id, status, id);
    CREATE INDEX orders_courier_status ON orders (courier_id, status, id);
    CREATE INDEX users_role_id ON users (role, id);
    CREATE INDEX products_available_id ON products (available, id);
"#,
    // Running totals of the orders placed each UTC day, by status, currency and courier
    // (`''` for none), kept by the same transaction as every order write (`orders.rs`). The
    // stats of a period add the whole days' totals and count only the orders of its two
    // partial days, so their cost follows the days asked for, not the orders stored.
    r#"
    CREATE TABLE order_tallies (
        day         INTEGER NOT NULL,
        status      TEXT    NOT NULL,
        currency    TEXT    NOT NULL,
        courier_id  TEXT    NOT NULL,
        orders      INTEGER NOT NULL CHECK (orders >= 0),
        total_cents INTEGER NOT NULL,
        PRIMARY KEY (day, status, currency, courier_id)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO order_tallies (day, status, currency, courier_id, orders, total_cents)
        SELECT created_at / 86400000, status, currency, coalesce(courier_id, ''),
               COUNT(*), SUM(total_cents)
        FROM orders GROUP BY 1, 2, 3, 4;
"#,
];

/// Applies the migrations this database lacks, each in its own transaction with its version
/// bump. `BEGIN IMMEDIATE` takes the write lock before reading the version, so two processes
/// starting on one file cannot both apply a migration.
pub(super) fn migrate(connection: &mut Connection) -> anyhow::Result<()> {
    for (version, migration) in (1u32..).zip(MIGRATIONS) {
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .context("starting a migration")?;
        let current = schema_version(&transaction)?;
        if current as usize > MIGRATIONS.len() {
            // Rolled back on drop. An older build must not write into a schema it does not
            // know; refusing to start is the safe answer to a downgrade.
            bail!(
                "the database schema is version {current}, newer than this build's {}",
                MIGRATIONS.len()
            );
        }
        if current >= version {
            continue;
        }
        transaction
            .execute_batch(migration)
            .with_context(|| format!("applying migration {version}"))?;
        transaction
            .pragma_update(None, "user_version", version)
            .with_context(|| format!("recording schema version {version}"))?;
        transaction
            .commit()
            .with_context(|| format!("committing migration {version}"))?;
    }
    Ok(())
}

fn schema_version(connection: &Connection) -> anyhow::Result<u32> {
    connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .context("reading the schema version")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_made_before_languages_existed_read_the_default_language() {
        let mut connection = Connection::open_in_memory().unwrap();
        let before_languages = 12; // migrations 1 to 12 predate languages
        for migration in &MIGRATIONS[..before_languages] {
            connection.execute_batch(migration).unwrap();
        }
        connection
            .pragma_update(None, "user_version", before_languages as u32)
            .unwrap();
        connection
            .execute(
                "INSERT INTO users (id, name, email, role, status, password_hash, created_at,
                                    updated_at)
                 VALUES ('0190c0de-0000-7000-8000-000000000001', 'Amina', 'amina@example.com',
                         'client', 'active', 'hash', 0, 0)",
                [],
            )
            .unwrap();

        migrate(&mut connection).unwrap();

        let locale: String = connection
            .query_row("SELECT locale FROM users", [], |row| row.get(0))
            .unwrap();
        assert_eq!(locale, crate::core::model::Locale::default().tag());
    }
}
