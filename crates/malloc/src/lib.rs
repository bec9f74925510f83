//! Tuning of the C allocator, owned here because it is the workspace's one `unsafe` call (every
//! other crate forbids `unsafe`).
//!
//! glibc serves an allocation of at least its *mmap threshold* (128 KiB at start) with its own
//! `mmap`, returned to the system when freed. But it raises the threshold to the size of each
//! such block freed, up to 32 MiB: after the first large request body or filing geometry is
//! freed, blocks of hundreds of KiB come from the arenas instead, and an arena keeps freed
//! memory. Under `deconflict bench attack` (an alert storm and heavy filings) that retention
//! was most of the server's RSS growth: peak RSS 33.7–34.5 MB (1.9–2.0× the baseline) by
//! default, 28.1–28.3 MB (1.6–1.7×) with the threshold pinned at 128 KiB, alert p99 unchanged
//! (`docs/security.md`). Pinning it (an explicit `M_MMAP_THRESHOLD` turns the dynamic rise
//! off) costs a `mmap`/`munmap` pair per block of 128 KiB or more.

/// The threshold pinned: glibc's own starting value, 128 KiB.
pub const MMAP_THRESHOLD: usize = 128 * 1024;

/// What [`pin_mmap_threshold`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tuning {
    /// The threshold is pinned at [`MMAP_THRESHOLD`].
    Pinned,
    /// The operator tunes malloc through the environment (`MALLOC_MMAP_THRESHOLD_` or
    /// `GLIBC_TUNABLES`), which is left to rule.
    LeftToEnvironment,
    /// Not glibc, or glibc refused the value: nothing changed.
    Unsupported,
}

/// Pins glibc's mmap threshold at [`MMAP_THRESHOLD`] unless the environment tunes malloc.
/// Call it first thing in `main`, before any thread starts.
pub fn pin_mmap_threshold() -> Tuning {
    let tuned = |k: &str| std::env::var_os(k).is_some();
    if tuned("MALLOC_MMAP_THRESHOLD_") || tuned("GLIBC_TUNABLES") {
        return Tuning::LeftToEnvironment;
    }
    pin()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn pin() -> Tuning {
    let Ok(value) = libc::c_int::try_from(MMAP_THRESHOLD) else {
        return Tuning::Unsupported;
    };
    // SAFETY: mallopt only sets a parameter of the allocator, takes no pointer, and is safe to
    // call at any time (glibc takes its own lock); it returns 0 when it refuses the value.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, value) };
    if ok == 1 {
        Tuning::Pinned
    } else {
        Tuning::Unsupported
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pin() -> Tuning {
    Tuning::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_pinned_on_glibc() {
        // the test binary's environment may tune malloc; then the call must leave it alone
        let env = std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
            || std::env::var_os("GLIBC_TUNABLES").is_some();
        let want = if env {
            Tuning::LeftToEnvironment
        } else if cfg!(all(target_os = "linux", target_env = "gnu")) {
            Tuning::Pinned
        } else {
            Tuning::Unsupported
        };
        assert_eq!(pin_mmap_threshold(), want);
    }
}
