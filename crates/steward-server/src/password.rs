//! Passwords of users (N6.5b, N7.2): hashed with argon2id on the blocking
//! pool (slow on purpose), and checked at login.

use crate::problem::ApiError;

/// Hash a password with argon2id (on the blocking pool: it is slow on purpose).
pub(crate) async fn hash_password(password: String) -> Result<String, ApiError> {
    let n = password.chars().count();
    if !(12..=1024).contains(&n) {
        return Err(ApiError::BadRequest(
            "password: 12 to 1024 characters".into(),
        ));
    }
    tokio::task::spawn_blocking(move || {
        use argon2::PasswordHasher as _;
        let salt = argon2::password_hash::SaltString::generate(
            &mut argon2::password_hash::rand_core::OsRng,
        );
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Whether `password` matches the argon2id `hash` (false for a malformed
/// hash); on the blocking pool.
pub(crate) async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::PasswordVerifier as _;
        argon2::password_hash::PasswordHash::new(&hash)
            .map(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
