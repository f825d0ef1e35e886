use heartbeat::{StatusChange, on_status_change};

struct Pager;

impl Pager {
    #[on_status_change]
    fn notify(&self, _change: &StatusChange) {}
}

fn main() {}
