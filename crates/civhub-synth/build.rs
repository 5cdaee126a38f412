//! Re-embeds the bundled project configuration whenever it changes: the
//! `include_dir!` and `include_str!` macros in `src/project.rs` read these
//! folders at compile time, but cargo only knows to rebuild when told.

fn main() {
    println!("cargo:rerun-if-changed=../../schemas");
    println!("cargo:rerun-if-changed=../../pipelines");
    println!("cargo:rerun-if-changed=../../publish");
    println!("cargo:rerun-if-changed=../../access");
    println!("cargo:rerun-if-changed=../../civhub.toml");
    println!("cargo:rerun-if-changed=build.rs");
}
