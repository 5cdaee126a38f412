//! Integration tests of civhub-engine, in one test binary (one link on a
//! small machine): add new areas as modules here, not as files beside `it/`.

mod docs;
mod render;
mod slt;
mod slt_types;
