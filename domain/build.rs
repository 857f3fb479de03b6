//! `sqlx::migrate!` reads the migrations at compile time, and on a stable compiler it cannot tell
//! Cargo so: without this, a new migration file would not rebuild the crate, and the binaries and
//! tests would carry the old list.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
