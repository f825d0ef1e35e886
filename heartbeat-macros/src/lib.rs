//! Implementation detail of the `heartbeat` crate.
//!
//! Do not depend on this crate directly: use the attributes re-exported by `heartbeat`
//! (`heartbeat::readiness_probe` and friends). The code generated here always calls into
//! `heartbeat::__private`, whose behaviour the runtime crate's features decide.

use proc_macro::TokenStream;

mod args;
mod expand;
mod item;
mod lockfile;
mod provide;
mod target;

use args::Kind;

// Each entry point's one line of docs is written only when this crate itself is documented:
// `heartbeat` re-exports them inline with their full docs, and rustdoc appends the original's
// docs to a re-export's, which repeated this line at the end of every attribute's page.

#[cfg_attr(
    doc,
    doc = "Registers a check of `/.well-known/heartbeat/readiness`. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro_attribute]
pub fn readiness_probe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Readiness, args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Registers a check of `/.well-known/heartbeat/liveliness`. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro_attribute]
pub fn liveliness_probe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Liveliness, args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Registers a contributor to `/.well-known/heartbeat/environ`. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro_attribute]
pub fn environ_probe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Environ, args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Registers a named check of `/health/`. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro_attribute]
pub fn health_check(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Health, args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Registers a function called on every change of a check's level. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro_attribute]
pub fn on_status_change(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::on_status_change(args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Lists the build's libraries and the application's name and version in the environ endpoint. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro]
pub fn build_info(input: TokenStream) -> TokenStream {
    expand::build_info(input.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Provides every field of an application state to heartbeat's checks, each taken with axum's `FromRef`. See the `heartbeat` crate."
)]
#[cfg_attr(not(doc), allow(missing_docs))]
#[proc_macro_derive(Provide, attributes(heartbeat))]
pub fn provide(input: TokenStream) -> TokenStream {
    provide::derive(input.into()).into()
}
