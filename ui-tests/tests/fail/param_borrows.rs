use heartbeat::{Provided, readiness_probe};

#[readiness_probe]
fn ready<'a>(name: Provided<&'a str>) -> bool {
    !name.is_empty()
}

fn main() {}
