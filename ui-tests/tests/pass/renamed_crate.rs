//! The checks of `heartbeat-ui-renamed`, a crate that knows heartbeat only as `heartbeat2` and
//! says so with `crate = heartbeat2`, link into a binary and stay callable. Here, too, the crate
//! is reached under another name, through `extern crate … as`.

extern crate heartbeat as heartbeat2;

#[heartbeat2::readiness_probe(crate = heartbeat2)]
fn local() -> bool {
    true
}

#[heartbeat2::on_status_change(crate = heartbeat2)]
fn local_subscriber(_change: &heartbeat2::StatusChange) {}

fn main() {
    assert!(local());
    let _ = (local_subscriber, heartbeat_ui_renamed::subscriber);
    assert!(heartbeat_ui_renamed::ready());
    drop(heartbeat_ui_renamed::alive());
    let _ = heartbeat_ui_renamed::database();
    let _ = heartbeat_ui_renamed::build();
    drop(heartbeat_ui_renamed::provided(heartbeat2::Provided(1)));
    let _ = heartbeat2::Heartbeat::new().with_state(heartbeat_ui_renamed::State);
}
