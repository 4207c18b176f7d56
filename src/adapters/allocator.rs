//! Adapters layer: asking the allocator to give freed memory back to the system.
//!
//! glibc keeps what a program frees in its arenas for reuse, and after a large block is freed
//! it raises its threshold so the next one comes from an arena too. A server that did a burst
//! of work (start-up, a flood of logins) would keep that peak resident for good without asking.

/// Returns the allocator's free memory to the system; a no-op where that cannot be asked.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_free_memory_to_the_system() {
    // SAFETY: `malloc_trim` only releases memory that is free; no live allocation moves.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the allocator's free memory to the system; a no-op where that cannot be asked.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_free_memory_to_the_system() {}
