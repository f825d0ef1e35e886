//! The annotated item: it must be a free, non-generic `fn` or `async fn` whose parameters, if
//! any, are values the router provides (`name: heartbeat::Provided<T>`); for
//! `#[on_status_change]`, whose one parameter is the change (`&heartbeat::StatusChange`).

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, Item, ItemFn, Pat, PatType, ReturnType, Type};

use crate::args::{Errors, Kind};

/// What the expansion needs to know about the user's function.
pub(crate) struct CheckFn {
    pub(crate) ident: syn::Ident,
    pub(crate) is_async: Option<syn::token::Async>,
    /// The declared return type; `None` for `-> ()` left implicit.
    pub(crate) output: Option<Box<Type>>,
    /// The parameters, each a value the router provides.
    pub(crate) params: Vec<Param>,
}

/// One parameter: `name: Type`. That the type is a `heartbeat::Provided<T>` is left to rustc,
/// spanned to the type by the expansion.
pub(crate) struct Param {
    pub(crate) name: syn::Ident,
    pub(crate) ty: Box<Type>,
}

/// What the expansion needs to know about an `#[on_status_change]` function.
pub(crate) struct SubscriberFn {
    pub(crate) ident: syn::Ident,
    pub(crate) is_async: Option<syn::token::Async>,
    /// The declared return type; `None` for `-> ()` left implicit.
    pub(crate) output: Option<Box<Type>>,
    /// The type of its one parameter, `&heartbeat::StatusChange` (a reference: whether to
    /// that type is rustc's to say, spanned here).
    pub(crate) param: Box<Type>,
}

/// Parses the item, reporting every way it cannot be a check. `None` when it cannot.
pub(crate) fn parse(kind: Kind, item: TokenStream, errors: &mut Errors) -> Option<CheckFn> {
    let attribute = kind.attribute();
    let function = function(kind, item, errors)?;
    let sig = &function.sig;
    let before = errors.count();
    signature(kind, sig, errors);
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                format!(
                    "{attribute} cannot go on a method: a check takes no `self`; declare a free fn \
                     and take the value as a parameter the router provides, \
                     as in `db: heartbeat::Provided<Database>`"
                ),
            ),
            FnArg::Typed(arg) => params.extend(param(attribute, arg, errors)),
        }
    }
    variadic(kind, sig, errors);
    if errors.count() > before {
        return None;
    }
    Some(CheckFn {
        ident: sig.ident.clone(),
        is_async: sig.asyncness,
        output: output(sig),
        params,
    })
}

/// Parses the item of `#[on_status_change]`: a free, non-generic `fn` or `async fn` with one
/// parameter, the change by reference. `None` when it cannot be one.
pub(crate) fn parse_subscriber(item: TokenStream, errors: &mut Errors) -> Option<SubscriberFn> {
    let kind = Kind::OnStatusChange;
    let attribute = kind.attribute();
    let function = function(kind, item, errors)?;
    let sig = &function.sig;
    let before = errors.count();
    signature(kind, sig, errors);
    let the_param = "`change: &heartbeat::StatusChange`";
    let mut param = None;
    let mut typed = 0;
    for input in &sig.inputs {
        if let FnArg::Typed(_) = input {
            typed += 1;
        }
        match input {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                format!(
                    "{attribute} cannot go on a method: a subscriber takes no `self`; declare a \
                     free fn whose one parameter is the change, {the_param}"
                ),
            ),
            FnArg::Typed(_) if typed > 1 => errors.spanned(
                input,
                format!(
                    "{attribute} takes one parameter, the change ({the_param}); remove this one"
                ),
            ),
            FnArg::Typed(arg) => match &*arg.ty {
                Type::Reference(reference) if reference.mutability.is_some() => errors.spanned(
                    reference,
                    format!(
                        "{attribute} takes the change by shared reference, {the_param}: every \
                         subscriber is given the same change"
                    ),
                ),
                Type::Reference(_) => param = Some(arg.ty.clone()),
                ty => errors.spanned(
                    ty,
                    format!(
                        "{attribute} takes the change by reference, {the_param} (an `async fn`'s \
                         future may borrow it); clone it to keep it"
                    ),
                ),
            },
        }
    }
    if typed == 0 && sig.receiver().is_none() {
        errors.at(
            sig.paren_token.span.join(),
            format!("{attribute} needs the change as the function's one parameter: {the_param}"),
        );
    }
    variadic(kind, sig, errors);
    if errors.count() > before {
        return None;
    }
    Some(SubscriberFn {
        ident: sig.ident.clone(),
        is_async: sig.asyncness,
        output: output(sig),
        param: param?,
    })
}

fn output(sig: &syn::Signature) -> Option<Box<Type>> {
    match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(ty.clone()),
    }
}

/// The annotated item as a function, or the error that it is something else.
fn function(kind: Kind, item: TokenStream, errors: &mut Errors) -> Option<ItemFn> {
    let attribute = kind.attribute();
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => Some(function),
        Ok(other) => {
            let what = describe(&other);
            errors.at(
                keyword_span(&other),
                format!("{attribute} goes on a free `fn` or `async fn`, not on {what}"),
            );
            None
        }
        Err(_) => {
            // Not an item at all (an associated fn in an impl with `self`, say, still parses as
            // an `ItemFn`); point at the whole thing.
            errors.at(
                item.span(),
                format!("{attribute} goes on a free `fn` or `async fn`"),
            );
            None
        }
    }
}

/// What neither a check nor a subscriber may be: `const`, `unsafe`, `extern` or generic.
fn signature(kind: Kind, sig: &syn::Signature, errors: &mut Errors) {
    let attribute = kind.attribute();
    let noun = kind.noun();
    if let Some(constness) = &sig.constness {
        errors.at(
            constness.span,
            format!("{attribute} cannot go on a `const fn`: {noun}s run at run time"),
        );
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.at(
            unsafety.span,
            format!(
                "{attribute} cannot go on an `unsafe fn`: wrap the unsafe call in a safe function"
            ),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            format!("{attribute} cannot go on an `extern` fn; declare a plain Rust fn"),
        );
    }
    let only_lifetimes = sig
        .generics
        .params
        .iter()
        .all(|p| matches!(p, GenericParam::Lifetime(_)))
        && sig.generics.where_clause.is_none();
    // A subscriber may name its change's lifetime: `fn f<'a>(change: &'a StatusChange)`.
    if kind == Kind::OnStatusChange && only_lifetimes {
        return;
    }
    if !sig.generics.params.is_empty() && only_lifetimes {
        errors.spanned(
            &sig.generics,
            format!(
                "{attribute} cannot go on a fn with lifetime parameters: a provided value lives \
                 as long as the router, so a check's parameter cannot borrow; take an owned value \
                 (`heartbeat::Provided<String>`, an `Arc`) or a `&'static` one"
            ),
        );
    } else if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            format!(
                "{attribute} cannot go on a generic fn: the {noun} is called with no type to infer"
            ),
        );
    }
}

fn variadic(kind: Kind, sig: &syn::Signature, errors: &mut Errors) {
    if let Some(variadic) = &sig.variadic {
        let attribute = kind.attribute();
        errors.spanned(variadic, format!("{attribute} cannot go on a variadic fn"));
    }
}

/// A parameter: a plain name and a type taken by value. Whether the type can be provided
/// (`heartbeat::Provided<T>`, `T: Clone + Send + Sync + 'static`) is rustc's to say.
fn param(attribute: &str, arg: &PatType, errors: &mut Errors) -> Option<Param> {
    let before = errors.count();
    let name = match &*arg.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(pat.ident.clone()),
        Pat::Wild(wild) => {
            errors.spanned(
                wild,
                format!(
                    "{attribute}: a parameter named `_` takes a value the check never uses; \
                     remove it"
                ),
            );
            None
        }
        pat => {
            errors.spanned(
                pat,
                format!(
                    "{attribute} takes each parameter under a plain name, as in \
                     `pool: heartbeat::Provided<PgPool>`, not a pattern: a missing value is \
                     reported by that name; `Provided` dereferences to the value (`&*pool`), \
                     and `pool.0` takes it out"
                ),
            );
            None
        }
    };
    match &*arg.ty {
        Type::Reference(reference) if reference.mutability.is_some() => errors.spanned(
            reference,
            format!(
                "{attribute} cannot take a `&mut` parameter: a provided value is shared by \
                 every run of the check, so it is given by value, a clone each run; take \
                 `heartbeat::Provided<T>` where `T` shares what it holds (an `Arc<Mutex<…>>` \
                 for what the check changes)"
            ),
        ),
        Type::Reference(reference) => errors.spanned(
            reference,
            format!(
                "{attribute} takes each parameter by value, not as a reference: the router \
                 gives each run its own clone of the provided value; take \
                 `heartbeat::Provided<T>`"
            ),
        ),
        Type::ImplTrait(ty) => errors.spanned(
            ty,
            format!(
                "{attribute} cannot take an `impl Trait` parameter: the check is called with no \
                 type to infer; name the type, as in `heartbeat::Provided<PgPool>`"
            ),
        ),
        _ => {}
    }
    if errors.count() > before {
        return None;
    }
    Some(Param {
        name: name?,
        ty: arg.ty.clone(),
    })
}

fn describe(item: &Item) -> &'static str {
    match item {
        Item::Const(_) => "a const",
        Item::Enum(_) => "an enum",
        Item::ExternCrate(_) => "an extern crate",
        Item::ForeignMod(_) => "an extern block",
        Item::Impl(_) => "an impl block",
        Item::Macro(_) => "a macro invocation",
        Item::Mod(_) => "a module",
        Item::Static(_) => "a static",
        Item::Struct(_) => "a struct",
        Item::Trait(_) => "a trait",
        Item::TraitAlias(_) => "a trait alias",
        Item::Type(_) => "a type alias",
        Item::Union(_) => "a union",
        Item::Use(_) => "a use declaration",
        _ => "this item",
    }
}

/// The span of the keyword that says what the item is (`struct`, `impl`, …).
fn keyword_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Const(i) => i.const_token.span,
        Item::Enum(i) => i.enum_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Mod(i) => i.mod_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Struct(i) => i.struct_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::Type(i) => i.type_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}
