//! Rebuilds the store when a migration is added: `sqlx::migrate!` embeds the migrations folders, and
//! cargo does not otherwise look at files it was not told about (sqlx's own advice for the macro).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
