fn main() {
    let check = #[heartbeat::readiness_probe]
    || true;
    let _ = check();
}
