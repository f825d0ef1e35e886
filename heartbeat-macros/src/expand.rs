//! Turns a checked attribute and function into the function plus its registration.

use std::path::{Path, PathBuf};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{GenericArgument, LitStr, PathArguments, Type};

use crate::args::{self, Errors, Kind, Options};
use crate::item::{self, CheckFn, SubscriberFn};
use crate::lockfile::{self, Reading};
use crate::target;

/// The whole expansion. The user's item is always emitted unchanged, also next to errors, so
/// that rustc reports only what is wrong with the attribute (tokio-macros, thiserror).
pub(crate) fn attribute(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = args::parse(kind, args, &mut errors);
    let check = item::parse(kind, item.clone(), &mut errors);
    if let (Kind::Health, Some(check)) = (kind, &check) {
        // `/health/ping` answers `pong`: a health check of that name could not be asked for
        // at `/health/<name>`. The runtime's builder refuses it with the same words.
        let (name, span) = match &options.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (check.ident.unraw().to_string(), check.ident.span()),
        };
        if name == "ping" {
            errors.at(span, args::PING_RESERVED);
        }
    }
    match (errors.into_compile_error(), check) {
        (None, Some(check)) => {
            let registration = registration(kind, options, &check);
            quote!(#item #registration)
        }
        (error, _) => quote!(#item #error),
    }
}

fn registration(kind: Kind, options: Options, check: &CheckFn) -> TokenStream {
    // A `crate = path` that does not resolve is reported once, on the path.
    let import = match options.krate {
        Some(krate) => quote_spanned!(krate.span()=> use #krate as __heartbeat;),
        None => quote!(
            use ::heartbeat as __heartbeat;
        ),
    };
    let ident = &check.ident;
    let name = options
        .name
        // `fn r#type()` is named "type", as serde names a raw field.
        .unwrap_or_else(|| LitStr::new(&ident.unraw().to_string(), ident.span()));
    // The registration's one use of the function, by its bare name, spanned to the attribute:
    // on an associated fn of an `impl` (which the attribute cannot tell from a free fn), the
    // name does not resolve there, and that error points at the attribute.
    let mut callee = ident.clone();
    callee.set_span(Span::call_site());
    let holder = holder(kind, ident, &name);
    let variant = format_ident!("{}", kind.variant());
    // Each option given becomes a call on the registration, by name.
    let mut given = Vec::new();
    if let Some(default) = options.default {
        given.push(quote!(.default(#default)));
    }
    let durations = [
        ("timeout", options.timeout),
        ("cache", options.cache),
        ("every", options.every),
        ("max_stale", options.max_stale),
    ];
    for (option, nanos) in durations {
        if let Some((nanos, _)) = nanos {
            let option = format_ident!("{}", option);
            given.push(quote!(.#option(::core::time::Duration::from_nanos(#nanos))));
        }
    }
    if let Some(critical) = options.critical {
        given.push(quote!(.critical(#critical)));
    }
    if let Some((threshold, _)) = options.failure_threshold {
        given.push(quote!(.failure_threshold(#threshold)));
    }
    if let Some((threshold, _)) = options.success_threshold {
        given.push(quote!(.success_threshold(#threshold)));
    }

    // The conversion is spanned to the return type, so a type that is neither `IntoOutcome`
    // nor `IntoEnviron` is reported there, with the trait's list of what is accepted.
    let (output, output_span) = match &check.output {
        Some(ty) => {
            let nameable = nameable(ty);
            (quote!(#nameable), ty.span())
        }
        None => (quote!(()), ident.span()),
    };
    let convert = match kind {
        Kind::Environ => {
            quote_spanned!(output_span=> __heartbeat::__private::into_environ::<#output>)
        }
        _ => quote_spanned!(output_span=> __heartbeat::__private::into_outcome::<#output>),
    };
    let runner = match &check.is_async {
        _ if !check.params.is_empty() => provided(check, &convert),
        Some(asyncness) => {
            // A future that is not `Send` is reported on the user's `async`, as the future
            // returned by their function.
            // (`async fn name` underlined: the local is spanned to the function's name.)
            let local = Ident::new("__heartbeat_fn", ident.span());
            let future = quote_spanned!(asyncness.span=> __heartbeat::__private::send(#local()));
            quote! {
                fn __heartbeat_check() -> __heartbeat::__private::BoxFuture {
                    let #local = || #callee();
                    let future = #future;
                    ::std::boxed::Box::pin(async move { #convert(future.await) })
                }
                __heartbeat::__private::Func::Async(__heartbeat_check)
            }
        }
        None => quote! {
            fn __heartbeat_check() -> __heartbeat::__private::Outcome {
                #convert(#callee())
            }
            __heartbeat::__private::Func::Sync(__heartbeat_check)
        },
    };
    let line = quote_spanned!(ident.span()=> ::core::line!());

    let register = quote! {
        __heartbeat::__private::register! {
            __heartbeat::__private::Registration::new(
                __heartbeat::__private::Kind::#variant,
                #name,
                __heartbeat::__private::Site::new(::core::module_path!(), ::core::file!(), #line),
                { #runner },
            )
            #(#given)*
        }
    };
    held(&holder, &import, &register)
}

/// The named constant that holds a registration: `const #holder: () = { #import #register };`,
/// hidden and quiet about what it uses.
fn held(holder: &Ident, import: &TokenStream, register: &TokenStream) -> TokenStream {
    quote! {
        #[doc(hidden)]
        // `deprecated`: registering a `#[deprecated]` function is no use of it.
        #[allow(
            deprecated,
            dead_code,
            non_upper_case_globals,
            unused_attributes,
            unused_qualifications,
            clippy::absolute_paths,
            clippy::items_after_statements,
        )]
        const #holder: () = {
            #import
            #register
        };
    }
}

/// `#[on_status_change]`: the function unchanged, and its registration as a subscriber.
pub(crate) fn on_status_change(args: TokenStream, item: TokenStream) -> TokenStream {
    let kind = Kind::OnStatusChange;
    let mut errors = Errors::default();
    let options = args::parse(kind, args, &mut errors);
    let subscriber = item::parse_subscriber(item.clone(), &mut errors);
    match (errors.into_compile_error(), subscriber) {
        (None, Some(subscriber)) => {
            let registration = subscriber_registration(options, &subscriber);
            quote!(#item #registration)
        }
        (error, _) => quote!(#item #error),
    }
}

fn subscriber_registration(options: Options, subscriber: &SubscriberFn) -> TokenStream {
    let import = match options.krate {
        Some(krate) => quote_spanned!(krate.span()=> use #krate as __heartbeat;),
        None => quote!(
            use ::heartbeat as __heartbeat;
        ),
    };
    let ident = &subscriber.ident;
    let function = LitStr::new(&ident.unraw().to_string(), ident.span());
    // As for a check: the one use of the function, spanned to the attribute.
    let mut callee = ident.clone();
    callee.set_span(Span::call_site());
    let holder = holder(Kind::OnStatusChange, ident, &function);
    let timeout = options
        .timeout
        .map(|(nanos, _)| quote!(.timeout(::core::time::Duration::from_nanos(#nanos))));
    // The change, spanned to the parameter's type: a reference to another type is reported
    // there, as a mismatch with `&StatusChange`.
    let change = Ident::new("__heartbeat_change", subscriber.param.span());
    let (output, output_span) = match &subscriber.output {
        Some(ty) => {
            let nameable = nameable(ty);
            (quote!(#nameable), ty.span())
        }
        None => (quote!(()), ident.span()),
    };
    let convert =
        quote_spanned!(output_span=> __heartbeat::__private::subscriber_output::<#output>);
    let call = match &subscriber.is_async {
        Some(asyncness) => {
            // A future that is not `Send` is reported on the user's `async fn name`, as for a
            // check: the local holding the function is spanned to its name.
            let local = Ident::new("__heartbeat_fn", ident.span());
            let future = quote_spanned!(asyncness.span=> __heartbeat::__private::send_borrowing(#local(#change)));
            quote! {
                fn __heartbeat_call(
                    __heartbeat_owned: ::std::sync::Arc<__heartbeat::StatusChange>,
                ) -> __heartbeat::__private::SubscriberFuture {
                    ::std::boxed::Box::pin(async move {
                        let #local = #callee;
                        let #change: &__heartbeat::StatusChange = &__heartbeat_owned;
                        let future = #future;
                        #convert(future.await)
                    })
                }
                __heartbeat::__private::SubscriberCall::Async(__heartbeat_call)
            }
        }
        None => quote! {
            fn __heartbeat_call(
                #change: &__heartbeat::StatusChange,
            ) -> __heartbeat::__private::Returned {
                #convert(#callee(#change))
            }
            __heartbeat::__private::SubscriberCall::Sync(__heartbeat_call)
        },
    };
    let line = quote_spanned!(ident.span()=> ::core::line!());
    let register = quote! {
        __heartbeat::__private::subscriber! {
            __heartbeat::__private::Subscriber::new(
                #function,
                __heartbeat::__private::Site::new(::core::module_path!(), ::core::file!(), #line),
                { #call },
            )
            #timeout
        }
    };
    held(&holder, &import, &register)
}

/// The name of the constant that holds a registration: `const _` is refused inside an `impl`
/// ("`const` items in this context need a name"), so that an attribute on an associated fn
/// gets one error, the unresolved function, not two. The kind, the function and a hash of the
/// check's name keep it unique where several attributes stack on one function.
fn holder(kind: Kind, ident: &Ident, name: &LitStr) -> Ident {
    // FNV-1a: stable across compilers and runs, unlike `std`'s hasher.
    let hash = name
        .value()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let kind = kind.variant().to_ascii_lowercase();
    Ident::new(
        &format!("__heartbeat_{kind}_{}_{hash:016x}", ident.unraw()),
        Span::call_site(),
    )
}

/// The runner of a function with parameters: a `bind` function that takes each parameter's
/// value from the builder's (`Binder::take`, spanned to the parameter's type, so a type that
/// cannot be provided is reported there) and returns a closure that owns them and calls the
/// function with a clone of each.
fn provided(check: &CheckFn, convert: &TokenStream) -> TokenStream {
    let ident = &check.ident;
    let vars: Vec<Ident> = (0..check.params.len())
        .map(|i| format_ident!("__heartbeat_{}", i))
        .collect();
    let takes = check.params.iter().zip(&vars).map(|(param, var)| {
        let ty = &param.ty;
        let name = param.name.unraw().to_string();
        let written = written(ty);
        quote_spanned! {ty.span()=>
            let #var = __heartbeat_binder.take::<#ty>(#name, #written);
        }
    });
    let again = check.params.iter().zip(&vars).map(|(param, var)| {
        let ty = &param.ty;
        quote_spanned!(ty.span()=> <#ty as __heartbeat::__private::Parameter>::again(&#var))
    });
    let call = quote!(#ident(#(#again),*));
    let bound = match &check.is_async {
        Some(asyncness) => {
            let future = quote_spanned!(asyncness.span=> __heartbeat::__private::send(#call));
            quote! {
                __heartbeat::__private::Bound::future(move || -> __heartbeat::__private::BoxFuture {
                    let future = #future;
                    ::std::boxed::Box::pin(async move { #convert(future.await) })
                })
            }
        }
        None => quote! {
            __heartbeat::__private::Bound::sync(move || #convert(#call))
        },
    };
    quote! {
        fn __heartbeat_bind(
            __heartbeat_binder: &mut __heartbeat::__private::Binder<'_>,
        ) -> ::core::option::Option<__heartbeat::__private::Bound> {
            #(#takes)*
            let (#(::core::option::Option::Some(#vars),)*) = (#(#vars,)*) else {
                return ::core::option::Option::None;
            };
            ::core::option::Option::Some(#bound)
        }
        __heartbeat::__private::Func::Provided(__heartbeat_bind)
    }
}

/// A type as its author would write it (`Provided<PgPool>`), for messages: tokens joined
/// without the spaces `to_string` puts around punctuation.
fn written(ty: &Type) -> String {
    let mut text = quote!(#ty).to_string();
    for (spaced, tight) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// The return type with every `impl Trait` in it replaced by `_`: the conversion's turbofish
/// cannot name an opaque type (E0562), and inference finds it.
fn nameable(ty: &Type) -> Type {
    let mut ty = ty.clone();
    infer_impl_traits(&mut ty);
    ty
}

fn infer_impl_traits(ty: &mut Type) {
    match ty {
        Type::ImplTrait(_) => {
            let span = ty.span();
            *ty = syn::parse_quote_spanned!(span=> _);
        }
        Type::Paren(inner) => infer_impl_traits(&mut inner.elem),
        Type::Group(inner) => infer_impl_traits(&mut inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(infer_impl_traits),
        Type::Path(path) => {
            for segment in &mut path.path.segments {
                if let PathArguments::AngleBracketed(arguments) = &mut segment.arguments {
                    for argument in &mut arguments.args {
                        if let GenericArgument::Type(ty) = argument {
                            infer_impl_traits(ty);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// `build_info!()`: a static [`BuildInfo`] of the calling crate's package name and version and
/// the libraries its lockfile says it reaches, computed here, at compile time. The lockfile is
/// also `include_bytes!`'d into an unused constant: rustc records it as an input of the crate,
/// so a change to it rebuilds the crate, and an unused constant is never emitted, so its text is
/// not in the binary.
///
/// [`BuildInfo`]: ../heartbeat/__private/struct.BuildInfo.html
pub(crate) fn build_info(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let krate = args::parse_crate_only(input, &mut errors);
    if let Some(error) = errors.into_compile_error() {
        return error;
    }
    let import = match krate {
        Some(krate) => quote_spanned!(krate.span()=> use #krate as __heartbeat;),
        None => quote!(
            use ::heartbeat as __heartbeat;
        ),
    };
    let package = |key: &str| std::env::var(key).unwrap_or_default();
    let (name, version) = (package("CARGO_PKG_NAME"), package("CARGO_PKG_VERSION"));
    let (lockfile, track) = match find_libraries(&name, &version) {
        Ok(Found::Libraries(path, libraries)) => {
            let path = path.to_string_lossy().into_owned();
            let libraries = libraries.iter().map(|library| {
                let lockfile::Library {
                    name,
                    version,
                    source,
                    conflicts,
                } = library;
                quote!(__heartbeat::__private::Library::new(#name, #version, #source, &[#(#conflicts),*]))
            });
            (
                quote!(::core::result::Result::Ok(("Cargo.lock", &[#(#libraries),*]))),
                quote!(
                    const _: &[u8] = ::core::include_bytes!(#path);
                ),
            )
        }
        Ok(Found::Nothing(why)) => (quote!(::core::result::Result::Err(#why)), quote!()),
        Err(error) => {
            return syn::Error::new(Span::call_site(), error).to_compile_error();
        }
    };
    let warning = if target::library_without_binary() {
        in_a_library(&name)
    } else {
        quote!()
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications, clippy::absolute_paths)]
        const _: () = {
            #import
            #track
            #warning
            __heartbeat::__private::build_info! {
                __heartbeat::__private::BuildInfo::new(
                    #name,
                    #version,
                    #lockfile,
                    __heartbeat::__private::Site::new(::core::module_path!(), ::core::file!(), ::core::line!()),
                )
            }
        };
    }
}

/// A warning at the call of `build_info!()` in a library: a stable macro cannot emit one
/// itself, so the expansion declares a `#[deprecated]` constant whose note is the advice, and
/// uses it. Not in the library's own unit tests (`cfg(test)`): that binary is the library's.
fn in_a_library(package: &str) -> TokenStream {
    let note = format!(
        "`heartbeat::build_info!()` is in a library crate: it would report `{package}` as the \
         application of every binary that links it; move it to the binary crate's main.rs"
    );
    quote! {
        #[deprecated(note = #note)]
        const build_info_in_a_library: () = ();
        #[cfg(not(test))]
        const _: () = build_info_in_a_library;
    }
}

/// What [`find_libraries`] found.
enum Found {
    /// The lockfile (its absolute path, for `include_bytes!` only) and the libraries.
    Libraries(PathBuf, Vec<lockfile::Library>),
    /// No lockfile holds the package: why, for `libraries_note`.
    Nothing(String),
}

/// The nearest `Cargo.lock` at or above the manifest directory of the crate being compiled
/// that holds its package (a workspace's lockfile sits at its root, a standalone crate's next to
/// its manifest; one that does not hold the package belongs to another workspace), read.
fn find_libraries(name: &str, version: &str) -> Result<Found, String> {
    let Ok(manifest_dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return Ok(Found::Nothing(
            "CARGO_MANIFEST_DIR was not set when the binary was compiled (not built by cargo?)"
                .to_owned(),
        ));
    };
    for path in Path::new(&manifest_dir)
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .filter(|path| path.is_file())
    {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("build_info!() cannot read {}: {e}", path.display()))?;
        match lockfile::read(&text, name, version) {
            Ok(Reading::Libraries(libraries)) => return Ok(Found::Libraries(path, libraries)),
            Ok(Reading::NotHere) => {}
            Err(why) => {
                return Err(format!(
                    "build_info!() cannot read the lockfile {}: {why}",
                    path.display()
                ));
            }
        }
    }
    Ok(Found::Nothing(format!(
        "no Cargo.lock at or above the package's directory holds the package `{name} {version}` (when the binary was compiled)"
    )))
}
