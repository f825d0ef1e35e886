use heartbeat::environ_probe;

#[environ_probe]
fn build() -> bool {
    true
}

fn main() {}
