//! How the process asks for memory.

/// Keeps glibc's malloc to two arenas, before any thread starts.
///
/// By default glibc gives each thread that allocates an arena of its own, up to eight per core,
/// and memory freed on another thread goes back to the arena it came from, where it mostly stays.
/// Media work runs on tokio's blocking threads (the media store's file reads, the inspector), so
/// a worker publishing 128 posts with a photo each spread its buffers over sixteen arenas and
/// peaked at 215 MB; with two it peaks at 52 MB (`crier bench --scenario media`, BENCHMARKS.md),
/// at no measurable cost in speed. Elsewhere (musl, other systems) this does nothing.
pub fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; it is called before any other thread
    // exists, and a value it rejects leaves the default in place (its result is only advisory).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        // Blocks of 256 KiB and more (media pieces, upload chunks) are mapped on their own and
        // returned when freed. Left to itself glibc raises this threshold after the first large
        // free, and then keeps later megabyte buffers in the heap, where a 300 MB upload's
        // chunks sometimes piled up to 150 MB.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
