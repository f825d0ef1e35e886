use std::rc::Rc;

use heartbeat::{Provided, readiness_probe};

#[readiness_probe]
fn ready(counter: Provided<Rc<u64>>) -> bool {
    *counter.0 > 0
}

fn main() {}
