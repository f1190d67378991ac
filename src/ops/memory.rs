//! Process-wide memory settings, applied once at start-up (from `cli::main`,
//! before the async runtime and any other thread exist).
//!
//! - **Large blocks are always mapped.** glibc serves a large request with
//!   its own `mmap` and unmaps it on free, but after the first such free it
//!   raises that threshold to the freed size, so the next 19 MiB Argon2 work
//!   area came from a thread's arena instead, and a freed area stayed
//!   resident there for good: `bench/soak` saw three 19 MiB areas inside
//!   arenas (two hashing threads and the one that seeded the demo accounts)
//!   and the server's RSS wander between 94 and 106 MiB from run to run. A
//!   fixed threshold of [`MMAP_THRESHOLD`] keeps every such block in its own
//!   mapping, returned to the system when freed.
//! - **One arena per CPU** (at least two). glibc gives threads that allocate
//!   at the same time their own arenas, up to 8 per CPU, and each keeps the
//!   memory its threads freed; casegate runs ~20 threads (async workers, one
//!   per sqlx SQLite connection, the password hashers).
//!
//! An operator's own `MALLOC_ARENA_MAX` / `MALLOC_MMAP_THRESHOLD_` in the
//! environment wins (glibc has applied it already).

/// Blocks of this size or more get their own mapping (see the module notes).
pub const MMAP_THRESHOLD: usize = 1 << 20;

/// The arena limit to set, or `None` to leave glibc's choice alone: the
/// operator set `MALLOC_ARENA_MAX` (`env`), which glibc has already applied.
pub fn arena_limit(env: Option<&str>, cpus: usize) -> Option<usize> {
    match env {
        Some(_) => None,
        None => Some(cpus.max(2)),
    }
}

/// The mapping threshold to set, or `None` if the operator set
/// `MALLOC_MMAP_THRESHOLD_` (`env`).
pub fn mmap_threshold(env: Option<&str>) -> Option<usize> {
    match env {
        Some(_) => None,
        None => Some(MMAP_THRESHOLD),
    }
}

/// Applies [`arena_limit`] and [`mmap_threshold`] for this machine.
pub fn configure_process() {
    let env = |name: &str| std::env::var(name).ok();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    if let Some(limit) = arena_limit(env("MALLOC_ARENA_MAX").as_deref(), cpus) {
        set(Tunable::ArenaMax, limit);
    }
    if let Some(bytes) = mmap_threshold(env("MALLOC_MMAP_THRESHOLD_").as_deref()) {
        set(Tunable::MmapThreshold, bytes);
    }
}

#[derive(Debug, Clone, Copy)]
enum Tunable {
    ArenaMax,
    MmapThreshold,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set(tunable: Tunable, value: usize) {
    let param = match tunable {
        Tunable::ArenaMax => libc::M_ARENA_MAX,
        Tunable::MmapThreshold => libc::M_MMAP_THRESHOLD,
    };
    let value_c = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes allocator tunables, for allocations made
    // afterwards; it is safe to call at any time from any thread.
    let ok = unsafe { libc::mallopt(param, value_c) };
    if ok != 1 {
        tracing::debug!(?tunable, value, "mallopt refused; glibc's default stays");
    }
}

/// Other C libraries (musl, the BSDs, macOS) have no such tunables.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set(_tunable: Tunable, _value: usize) {}

#[cfg(test)]
mod tests {
    use super::{MMAP_THRESHOLD, arena_limit, mmap_threshold};

    #[test]
    fn one_arena_per_cpu_with_at_least_two() {
        assert_eq!(arena_limit(None, 1), Some(2));
        assert_eq!(arena_limit(None, 2), Some(2));
        assert_eq!(arena_limit(None, 16), Some(16));
    }

    #[test]
    fn the_operators_malloc_arena_max_wins() {
        assert_eq!(arena_limit(Some("8"), 2), None);
        assert_eq!(arena_limit(Some(""), 2), None);
        assert_eq!(mmap_threshold(Some("131072")), None);
    }

    #[test]
    fn an_argon2_work_area_gets_its_own_mapping() {
        assert_eq!(mmap_threshold(None), Some(MMAP_THRESHOLD));
        // The password policy's work area (m KiB) is above the line.
        let area = crate::auth::password::ARGON2_M_COST as usize * 1024;
        assert!(area >= MMAP_THRESHOLD);
    }
}
