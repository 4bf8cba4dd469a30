//! Accounts: the rules for emails and passwords, password hashing and checking, API
//! tokens and session tokens (random; only their SHA-256 is stored). The web UI, the API
//! and the CLI all come through here, so each rule is written once.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use sha2::{Digest, Sha256};

use crate::store::entities::account;
use crate::store::{Store, StoreError, random_hex};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// How long a browser session lasts.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Not an email address.
    #[error("{0:?} is not an email address")]
    InvalidEmail(String),
    /// The current password, asked to confirm a change, does not match.
    #[error("the current password is not right")]
    WrongPassword,
    /// The password is too short.
    #[error("the password needs at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    /// Hashing failed (the system's random source, say).
    #[error("hashing the password failed: {0}")]
    Hashing(String),
    /// The store failed (or the email is taken: [`StoreError::Conflict`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Accepts `email` if it is an email address.
pub fn check_email(email: &str) -> Result<(), AccountError> {
    crate::address::check(email)
        .map(|_| ())
        .map_err(|_| AccountError::InvalidEmail(email.to_owned()))
}

/// Accepts `password` if it is long enough.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    Ok(())
}

/// An Argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// Whether `password` matches the stored Argon2 `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash that matches no password, checked when the email is unknown, so that a
/// sign-in with an unknown email takes as long as one with a wrong password.
const NO_ACCOUNT_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$zcEhNnQkDd7G3NQXvNwqkpG6P0mS1vxjv4KZyHNcqVQ";

/// The SHA-256 (hex) of an API or session token: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an account after checking its email and password.
pub async fn create_account(
    store: &Store,
    email: &str,
    name: Option<&str>,
    password: &str,
    admin: bool,
) -> Result<account::Model, AccountError> {
    check_email(email)?;
    check_password(password)?;
    let hash = hash_password_off_thread(password).await?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    Ok(store.create_account(email, name, &hash, admin).await?)
}

/// Creates the first account, an admin, on first run; `StoreError::Conflict` inside
/// when an account exists already (another first-run form won).
pub async fn create_first_admin(
    store: &Store,
    email: &str,
    name: Option<&str>,
    password: &str,
) -> Result<account::Model, AccountError> {
    check_email(email)?;
    check_password(password)?;
    let hash = hash_password_off_thread(password).await?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    Ok(store.create_first_admin(email, name, &hash).await?)
}

/// [`hash_password`] on the blocking pool: Argon2 is meant to be slow, and must not
/// hold up the tasks that share the runtime's threads.
pub async fn hash_password_off_thread(password: &str) -> Result<String, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))?
}

/// [`verify_password`] on the blocking pool (see [`hash_password_off_thread`]).
pub async fn verify_password_off_thread(hash: String, password: &str) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false)
}

/// The account `email` and `password` sign in to, if they match one.
pub async fn authenticate(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<Option<account::Model>, StoreError> {
    let account = match store.account_by_email(email).await {
        Ok(account) => Some(account),
        Err(StoreError::NotFound(_)) => None,
        Err(error) => return Err(error),
    };
    let hash = account
        .as_ref()
        .map_or(NO_ACCOUNT_HASH, |a| a.password_hash.as_str());
    let valid = verify_password_off_thread(hash.to_owned(), password).await;
    // A deactivated account's password is checked all the same (same time taken).
    Ok(account.filter(|a| valid && a.active))
}

/// Changes `account`'s password: the current one must match; every other session of
/// the account ends (`keep` is the session that asked, stored by its hash).
pub async fn change_password(
    store: &Store,
    account: &account::Model,
    current: &str,
    new: &str,
    keep: Option<&str>,
) -> Result<(), AccountError> {
    if !verify_password_off_thread(account.password_hash.clone(), current).await {
        return Err(AccountError::WrongPassword);
    }
    check_password(new)?;
    let hash = hash_password_off_thread(new).await?;
    Ok(store.set_password(account.id, &hash, keep).await?)
}

/// Sets `account`'s password to `new` without asking for the current one (the command
/// line, for an admin locked out), and ends every session of the account.
pub async fn reset_password(
    store: &Store,
    account: &account::Model,
    new: &str,
) -> Result<(), AccountError> {
    check_password(new)?;
    let hash = hash_password_off_thread(new).await?;
    Ok(store.set_password(account.id, &hash, None).await?)
}

/// Creates an API token named `name` for `account_id`; returns it (it is stored only
/// as a hash).
pub async fn create_api_token(
    store: &Store,
    account_id: i64,
    name: &str,
) -> Result<String, StoreError> {
    let token = random_hex(2);
    store
        .create_token(account_id, &token_hash(&token), name)
        .await?;
    Ok(token)
}

/// The account an API token acts for.
pub async fn account_by_api_token(
    store: &Store,
    token: &str,
) -> Result<Option<account::Model>, StoreError> {
    store.account_by_token(&token_hash(token)).await
}

/// A new browser session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's token (stored only as a hash).
    pub token: String,
    /// What the session's forms must carry.
    pub csrf: String,
}

impl NewSession {
    /// A new random token and CSRF token.
    pub fn new() -> NewSession {
        NewSession {
            token: random_hex(2),
            csrf: random_hex(1),
        }
    }
}

impl Default for NewSession {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts a browser session for `account_id`.
pub async fn start_session(store: &Store, account_id: i64) -> Result<NewSession, StoreError> {
    start_session_as(store, account_id, false).await
}

/// Starts a browser session for `account_id`, waiting for the second factor when
/// `pending` (it opens only `/login/code` until then).
pub async fn start_session_as(
    store: &Store,
    account_id: i64,
    pending: bool,
) -> Result<NewSession, StoreError> {
    let session = NewSession::new();
    store
        .create_session_as(
            account_id,
            &token_hash(&session.token),
            &session.csrf,
            SESSION_TTL_MS,
            pending,
        )
        .await?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_emails_and_passwords() {
        assert!(check_email("jane@example.com").is_ok());
        assert!(matches!(
            check_email("jane"),
            Err(AccountError::InvalidEmail(_))
        ));
        assert!(check_password("12345678").is_ok());
        assert!(matches!(
            check_password("1234567"),
            Err(AccountError::PasswordTooShort)
        ));
        // Characters, not bytes.
        assert!(check_password("ééééééé").is_err());
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert!(!verify_password(NO_ACCOUNT_HASH, ""));
        assert_eq!(token_hash("abc").len(), 64);
    }
}
