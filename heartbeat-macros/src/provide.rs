//! `#[derive(heartbeat::Provide)]`: an application state hands every field's type, taken with
//! axum's `FromRef`, to the builder's `.provide(…)`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Field, Fields, Path};

use crate::args::{Errors, skip_value};

/// The derive: `impl Provide for State { fn provide_to(…) { heartbeat.provide(<F as
/// FromRef<State>>::from_ref(self))… } }`, one call per field not skipped, each spanned to its
/// field's type (a type without `FromRef<State>`, or that cannot be provided, is reported
/// there).
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let krate = container(&input, &mut errors);
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => fields.named.iter().collect(),
            Fields::Unnamed(fields) => fields.unnamed.iter().collect(),
            Fields::Unit => Vec::new(),
        },
        Data::Enum(data) => {
            errors.at(
                data.enum_token.span,
                "#[derive(heartbeat::Provide)] goes on a struct, not an enum: implement \
                 `heartbeat::Provide` by hand and `.provide(…)` each value",
            );
            Vec::new()
        }
        Data::Union(data) => {
            errors.at(
                data.union_token.span,
                "#[derive(heartbeat::Provide)] goes on a struct, not a union",
            );
            Vec::new()
        }
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.spanned(
            &input.generics,
            "#[derive(heartbeat::Provide)] does not take a generic type: implement \
             `heartbeat::Provide` by hand, `.provide(…)` for each value",
        );
    }
    let mut provided = Vec::new();
    for field in fields {
        if !skipped(field, &mut errors) {
            let ty = &field.ty;
            provided.push(quote_spanned! {ty.span()=>
                .provide(<#ty as __heartbeat::__private::FromRef<Self>>::from_ref(self))
            });
        }
    }
    if let Some(error) = errors.into_compile_error() {
        return error;
    }
    let import = match krate {
        Some(krate) => quote_spanned!(krate.span()=> use #krate as __heartbeat;),
        None => quote!(
            use ::heartbeat as __heartbeat;
        ),
    };
    let ident = &input.ident;
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, clippy::absolute_paths)]
        const _: () = {
            #import
            #[automatically_derived]
            impl __heartbeat::Provide for #ident {
                fn provide_to(&self, heartbeat: __heartbeat::Heartbeat) -> __heartbeat::Heartbeat {
                    heartbeat #(#provided)*
                }
            }
        };
    }
}

/// `#[heartbeat(crate = path)]` on the struct.
fn container(input: &DeriveInput, errors: &mut Errors) -> Option<Path> {
    let mut krate = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("heartbeat"))
    {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") && krate.is_none() {
                let value: syn::Expr = meta.value()?.parse()?;
                match value {
                    syn::Expr::Path(p) if p.qself.is_none() => krate = Some(p.path),
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => krate = Some(s.parse()?),
                    other => errors.spanned(
                        other,
                        "`crate` takes a path, as in `#[heartbeat(crate = ::heartbeat)]`",
                    ),
                }
            } else {
                errors.spanned(
                    &meta.path,
                    "#[heartbeat(…)] on a struct takes only `crate = path` (once); \
                     on a field, `skip`",
                );
                skip_value(&meta);
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    krate
}

/// Whether the field is left out: `#[heartbeat(skip)]`, or axum's `#[from_ref(skip)]` (the
/// field has no `FromRef` then).
fn skipped(field: &Field, errors: &mut Errors) -> bool {
    let mut skip = false;
    for attr in &field.attrs {
        let ours = attr.path().is_ident("heartbeat");
        if !ours && !attr.path().is_ident("from_ref") {
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
            } else if ours {
                errors.spanned(&meta.path, "#[heartbeat(…)] on a field takes only `skip`");
                skip_value(&meta);
            } else {
                // axum's other `from_ref` options are axum's to check.
                skip_value(&meta);
            }
            Ok(())
        });
        if let Err(error) = parsed {
            if ours {
                errors.push(error);
            }
        }
    }
    skip
}
