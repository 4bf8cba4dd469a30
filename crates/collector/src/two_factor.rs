//! Two-factor sign-in with an authenticator app (TOTP, RFC 6238: six digits, a new code
//! every 30 seconds, the step before and after accepted for clocks that drift): set up
//! by scanning a QR code drawn here as SVG (no outside service sees the secret) or
//! typing the key, confirmed with a code, then asked for at every sign-in. Each code
//! works once; ten one-time recovery codes, shown once and stored hashed, stand in for a
//! lost phone; `user reset-2fa` removes the second factor of someone locked out.

use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::accounts::token_hash;
use crate::store::entities::account;
use crate::store::{Store, StoreError, random_hex};

/// Recovery codes made at once.
pub const RECOVERY_CODES: usize = 10;

/// Why a second-factor step failed.
#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    /// The code is not the current one (or was used already).
    #[error("that code is not right; type the 6 digits the app shows now")]
    WrongCode,
    /// Nothing to confirm: setting up was not started, or is done already.
    #[error("two-factor sign-in is not being set up; start again")]
    NotPending,
    /// The stored secret cannot be read (a database edited by hand).
    #[error(
        "the stored two-factor secret is unreadable; an admin can reset it with `user reset-2fa`"
    )]
    BadSecret,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the person needs to set up their app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The key to type, base32 in groups of four.
    pub key: String,
    /// The `otpauth://` URL the QR code holds.
    pub url: String,
    /// The QR code, an SVG document.
    pub qr_svg: String,
}

/// The TOTP of `secret` (base32) for `email`, issued as `Mayday`.
fn totp(secret: &str, email: &str) -> Result<Totp, TwoFactorError> {
    let bytes = Secret::try_from_base32(secret).map_err(|_| TwoFactorError::BadSecret)?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(bytes)
        .with_issuer(Some("Mayday"))
        .with_account_name(email)
        .build()
        .map_err(|_| TwoFactorError::BadSecret)
}

/// Starts setting up two-factor sign-in for `account`: a new secret, kept pending.
pub async fn start(store: &Store, account: &account::Model) -> Result<Enrolment, TwoFactorError> {
    let secret = Secret::generate().to_base32();
    if !store.set_pending_totp(account.id, &secret).await? {
        return Err(TwoFactorError::NotPending);
    }
    enrolment(&secret, &account.email)
}

/// The enrolment of an account whose setup is pending (the page shown again).
pub fn pending_enrolment(account: &account::Model) -> Option<Enrolment> {
    if account.totp_enabled_at.is_some() {
        return None;
    }
    enrolment(account.totp_secret.as_deref()?, &account.email).ok()
}

fn enrolment(secret: &str, email: &str) -> Result<Enrolment, TwoFactorError> {
    let url = totp(secret, email)?
        .to_url()
        .map_err(|_| TwoFactorError::BadSecret)?;
    let key = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Enrolment {
        key,
        qr_svg: qr_svg(&url),
        url,
    })
}

/// `text` as a QR code, an SVG document (black on white, a quiet zone around).
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
        // Only a text longer than a QR code holds; an otpauth URL never is.
        Err(_) => String::new(),
    }
}

/// The step `code` is valid for under `account`'s secret at `now_seconds`, if any.
fn matching_step(
    account: &account::Model,
    code: &str,
    now_seconds: u64,
) -> Result<Option<u64>, TwoFactorError> {
    let Some(secret) = account.totp_secret.as_deref() else {
        return Ok(None);
    };
    let digits: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(totp(secret, &account.email)?.check(&digits, now_seconds))
}

fn now_seconds() -> u64 {
    u64::try_from(crate::store::now_ms() / 1000).unwrap_or(0)
}

/// Confirms the pending setup with a code from the app: two-factor sign-in is on, and
/// the ten recovery codes returned are the only time they are seen.
pub async fn confirm(
    store: &Store,
    account: &account::Model,
    code: &str,
) -> Result<Vec<String>, TwoFactorError> {
    if account.totp_enabled_at.is_some() || account.totp_secret.is_none() {
        return Err(TwoFactorError::NotPending);
    }
    let step = matching_step(account, code, now_seconds())?.ok_or(TwoFactorError::WrongCode)?;
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    store
        .enable_totp(account.id, i64::try_from(step).unwrap_or(i64::MAX), &hashes)
        .await?;
    Ok(codes)
}

/// Checks a second factor at sign-in: a current code from the app (each step once), or
/// an unused recovery code (used up by this).
pub async fn verify(
    store: &Store,
    account: &account::Model,
    code: &str,
) -> Result<bool, TwoFactorError> {
    if !account.has_two_factor() {
        return Ok(false);
    }
    if let Some(step) = matching_step(account, code, now_seconds())? {
        return Ok(store
            .accept_totp_step(account.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?);
    }
    let normal = normalize_recovery(code);
    if normal.len() != 10 {
        return Ok(false);
    }
    Ok(store
        .use_recovery_code(account.id, &recovery_hash(&normal))
        .await?)
}

/// New recovery codes for an account with two-factor sign-in, the old ones void.
pub async fn renew_recovery_codes(
    store: &Store,
    account_id: i64,
) -> Result<Vec<String>, StoreError> {
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    store.replace_recovery_codes(account_id, &hashes).await?;
    Ok(codes)
}

/// Ten codes of ten lowercase hex digits, shown as `abcde-12345`.
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let hex = random_hex(1);
            format!("{}-{}", &hex[..5], &hex[5..10])
        })
        .collect()
}

/// A recovery code as typed (any case, spaces or dashes) in its stored form.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn recovery_hash(code: &str) -> String {
    token_hash(&normalize_recovery(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(secret: &str) -> account::Model {
        account::Model {
            id: 1,
            email: "jane@example.com".into(),
            name: None,
            password_hash: String::new(),
            is_admin: false,
            created_at: 0,
            active: true,
            totp_secret: Some(secret.into()),
            totp_enabled_at: Some(1),
            totp_last_step: None,
        }
    }

    #[test]
    fn rfc_6238_codes_and_their_window() {
        // RFC 6238's SHA-1 key, "12345678901234567890", in base32.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let jane = account(secret);
        // Appendix B: at 59 s the 8-digit code is 94287082; six digits: 287082.
        assert_eq!(matching_step(&jane, "287082", 59).unwrap(), Some(1));
        assert_eq!(matching_step(&jane, "287 082", 59).unwrap(), Some(1));
        // One step of drift either way is accepted, two are not.
        assert_eq!(matching_step(&jane, "287082", 59 + 30).unwrap(), Some(1));
        assert_eq!(matching_step(&jane, "287082", 59 + 90).unwrap(), None);
        assert_eq!(matching_step(&jane, "28708", 59).unwrap(), None);
        assert_eq!(matching_step(&jane, "abcdef", 59).unwrap(), None);
    }

    #[test]
    fn enrolment_carries_the_key_the_url_and_a_qr_code() {
        let e = enrolment("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "jane@example.com").unwrap();
        assert_eq!(e.key, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert!(
            e.url
                .starts_with("otpauth://totp/Mayday:jane%40example.com?secret="),
            "{}",
            e.url
        );
        assert!(e.qr_svg.contains("<svg") && e.qr_svg.contains("</svg>"));
    }

    #[test]
    fn recovery_codes_are_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
        assert_eq!(recovery_hash("ABCDE 12345"), recovery_hash("abcde-12345"));
    }
}
