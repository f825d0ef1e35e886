//! Runnable examples of heartbeat: see `examples/*.rs`.
