//! Integration tests of civhub-warehouse, in one test binary (one link on a
//! small machine): add new areas as modules here, not as files beside `it/`.

mod docs;
mod render;
mod slt;
