use heartbeat::liveliness_probe;

#[liveliness_probe]
unsafe fn alive() -> bool {
    true
}

fn main() {}
