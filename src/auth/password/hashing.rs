//! Argon2id hashing and verification, keyed by the pepper.

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::ParamsString;
use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore};

use super::policy::normalise;

/// Argon2id memory cost in KiB (19 MiB; OWASP's minimum recommendation for Argon2id).
pub const ARGON2_M_COST: u32 = 19_456;
/// Argon2id iterations.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;
/// Hash output length in bytes.
pub const ARGON2_OUTPUT_LEN: usize = 32;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;

/// Stored hashes asking for more than this are treated as malformed rather than run
/// (a corrupted or hostile row must not be able to make a verify allocate gigabytes).
const MAX_STORED_M_COST: u32 = 262_144; // 256 MiB
const MAX_STORED_T_COST: u32 = 16;
const MAX_STORED_P_COST: u32 = 8;

/// What can go wrong when hashing or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The [`Hasher`] queue is full: answer 503 / "try again in a moment".
    #[error("password hashing is busy; try again shortly")]
    Busy,
    /// The [`Hasher`]'s worker threads are gone.
    #[error("password hashing workers are unavailable")]
    Unavailable,
    /// The stored hash is not a PHC string for Argon2id with sane parameters.
    #[error("stored password hash is malformed or unsupported")]
    Malformed,
    /// The random number generator failed.
    #[error("random number generator failure")]
    Rng,
    /// Anything else (out of memory, a worker panic, …).
    #[error("password hashing failed: {0}")]
    Internal(String),
}

pub(super) fn policy_params() -> Result<Params, HashError> {
    Params::new(
        ARGON2_M_COST,
        ARGON2_T_COST,
        ARGON2_P_COST,
        Some(ARGON2_OUTPUT_LEN),
    )
    .map_err(|err| HashError::Internal(err.to_string()))
}

pub(super) fn keyed_argon2(pepper: &[u8; 32], params: Params) -> Result<Argon2<'_>, HashError> {
    Argon2::new_with_secret(pepper, Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|err| HashError::Internal(err.to_string()))
}

thread_local! {
    /// Argon2's 19 MiB of working memory, kept and reused by each [`Hasher`]
    /// thread (`Some`). Allocating it per hash let glibc's allocator keep
    /// hundreds of MiB of freed work areas under a sign-in load (bench/soak);
    /// kept per hashing thread, memory is bounded by the [`Hasher`]'s
    /// threads × 19 MiB. Any other thread allocates per hash and keeps
    /// nothing (`None`): a one-off hash, such as seeding the demo accounts on
    /// a tokio blocking thread, must not leave 19 MiB behind on a thread that
    /// lives on serving file writes.
    pub(super) static BLOCKS: RefCell<Option<Vec<Block>>> = const { RefCell::new(None) };
}

/// Makes this thread keep its Argon2 working memory between hashes: for
/// threads that only hash (the [`Hasher`]'s, `casegate hash-rate`'s).
pub fn keep_work_area() {
    BLOCKS.with(|cell| {
        cell.borrow_mut().get_or_insert_with(Vec::new);
    });
}

/// Runs Argon2 on this thread's reusable working memory if it keeps one, on a
/// fresh area otherwise (no zeroing needed: Argon2 writes every block before
/// it reads it).
fn argon2_into(
    argon2: &Argon2<'_>,
    block_count: usize,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    BLOCKS.with(|cell| {
        let mut kept = cell.borrow_mut();
        let mut one_off = Vec::new();
        let blocks = kept.as_mut().unwrap_or(&mut one_off);
        if blocks.len() != block_count {
            *blocks = Vec::new(); // free the old area before taking the new one
            blocks.resize(block_count, Block::default());
        }
        argon2
            .hash_password_into_with_memory(pwd, salt, out, &mut blocks[..])
            .map_err(|err| HashError::Internal(err.to_string()))
    })
}

/// Hashes `password` (NFKC-normalised first) with Argon2id keyed by `pepper`, returning
/// a PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. CPU-bound
/// (tens of milliseconds): call it from [`Hasher`], not from an async task.
pub fn hash_blocking<R>(pepper: &[u8; 32], password: &str, rng: &mut R) -> Result<String, HashError>
where
    R: RngCore + CryptoRng + ?Sized,
{
    let internal = |err: password_hash::Error| HashError::Internal(err.to_string());
    let mut salt = [0u8; SALT_LEN];
    rng.try_fill_bytes(&mut salt).map_err(|_| HashError::Rng)?;
    let salt_string = SaltString::encode_b64(&salt).map_err(internal)?;
    let params = policy_params()?;
    let argon2 = keyed_argon2(pepper, params.clone())?;
    let normalised = normalise(password);
    let mut out = [0u8; ARGON2_OUTPUT_LEN];
    argon2_into(
        &argon2,
        params.block_count(),
        normalised.as_bytes(),
        &salt,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal)?,
        salt: Some(salt_string.as_salt()),
        hash: Some(password_hash::Output::new(&out).map_err(internal)?),
    };
    Ok(phc.to_string())
}

/// Verifies `password` (NFKC-normalised first) against a stored PHC string using
/// `pepper`. `Ok(false)` on mismatch (including a different pepper); `Err` only if the
/// stored hash is malformed/unsupported ([`HashError::Malformed`]) or on internal
/// failure. The output comparison is constant-time. Uses the parameters stored in the
/// hash; see [`needs_rehash`] to upgrade old ones after a successful sign-in.
pub fn verify_blocking(pepper: &[u8; 32], password: &str, phc: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc).map_err(|_| HashError::Malformed)?;
    let params = stored_params(&parsed)?;
    let version = match parsed.version {
        None => Version::V0x13,
        Some(v) => Version::try_from(v).map_err(|_| HashError::Malformed)?,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(HashError::Malformed);
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|_| HashError::Malformed)?;
    let argon2 = Argon2::new_with_secret(pepper, Algorithm::Argon2id, version, params.clone())
        .map_err(|_| HashError::Malformed)?;
    let normalised = normalise(password);
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        &argon2,
        params.block_count(),
        normalised.as_bytes(),
        salt,
        &mut out,
    )
    .map_err(|_| HashError::Malformed)?;
    Ok(crate::crypto::constant_time_eq(&out, expected.as_bytes()))
}

/// Validates a parsed stored hash: Argon2id, salt and output present, sane costs.
fn stored_params(parsed: &PasswordHash<'_>) -> Result<Params, HashError> {
    if parsed.algorithm != argon2::ARGON2ID_IDENT || parsed.salt.is_none() || parsed.hash.is_none()
    {
        return Err(HashError::Malformed);
    }
    let params = Params::try_from(parsed).map_err(|_| HashError::Malformed)?;
    if params.m_cost() > MAX_STORED_M_COST
        || params.t_cost() > MAX_STORED_T_COST
        || params.p_cost() > MAX_STORED_P_COST
    {
        return Err(HashError::Malformed);
    }
    Ok(params)
}

/// True if a stored hash should be replaced (after a successful verify) because it was
/// made with other parameters, another Argon2 variant/version, or is unreadable.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = stored_params(&parsed) else {
        return true;
    };
    parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != ARGON2_M_COST
        || params.t_cost() != ARGON2_T_COST
        || params.p_cost() != ARGON2_P_COST
        || parsed.hash.as_ref().map(password_hash::Output::len) != Some(ARGON2_OUTPUT_LEN)
}

/// Password verified against the dummy hash; never a real user's.
const DUMMY_PASSWORD: &str = "casegate-dummy-verify-password";

/// The dummy PHC string, computed once with the current parameters (so its cost tracks
/// any change of [`ARGON2_M_COST`] etc.). `None` only if that hash failed (OOM).
pub(super) fn dummy_phc(pepper: &[u8; 32]) -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_blocking(pepper, DUMMY_PASSWORD, &mut OsRng).ok())
        .as_deref()
}

/// Does the same work as [`verify_blocking`] against a current-parameter hash, for
/// sign-in attempts on unknown accounts, so response time does not reveal whether an
/// account exists. The first call also computes the dummy hash ([`Hasher`] does that
/// when it starts).
pub fn dummy_verify_blocking(pepper: &[u8; 32]) {
    let outcome = match dummy_phc(pepper) {
        Some(phc) => verify_blocking(pepper, "casegate-wrong-password", phc).map(|_| ()),
        // Same Argon2 work without a PHC string to compare against.
        None => policy_params().and_then(|params| {
            let mut out = [0u8; ARGON2_OUTPUT_LEN];
            let argon2 = keyed_argon2(pepper, params.clone())?;
            argon2_into(
                &argon2,
                params.block_count(),
                DUMMY_PASSWORD.as_bytes(),
                &[0u8; SALT_LEN],
                &mut out,
            )
        }),
    };
    std::hint::black_box(outcome).ok();
}
