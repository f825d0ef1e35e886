//! Compile-fail and compile-pass cases for the attributes of `heartbeat`; see `tests/ui.rs`.
