//! `#[on_status_change]`: sync and async, `()` or a `Result` returned, the lifetime named, with
//! options, inside a function body, and a `Send` future that borrows the change across an
//! await; each function stays callable as written.

use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
fn plain(change: &StatusChange) {
    let _ = &change.name;
}

#[on_status_change(timeout = "250ms")]
async fn borrowing(change: &StatusChange) {
    let name: &str = &change.name;
    tokio::task::yield_now().await;
    let _ = name.len();
}

#[heartbeat::on_status_change(timeout = "1m", crate = ::heartbeat)]
fn fallible(change: &StatusChange) -> Result<(), String> {
    if change.name.is_empty() {
        Err("no name".to_owned())
    } else {
        Ok(())
    }
}

#[on_status_change]
async fn fallible_async(_change: &StatusChange) -> Result<(), std::io::Error> {
    Ok(())
}

#[on_status_change]
fn named_lifetime<'a>(change: &'a StatusChange) -> () {
    let _: &'a str = &change.name;
}

#[on_status_change]
fn unused(_: &heartbeat::StatusChange) {}

fn main() {
    #[on_status_change]
    fn inside_main(_change: &StatusChange) {}

    let _ = (plain, borrowing, fallible, fallible_async, named_lifetime, unused, inside_main);
}
