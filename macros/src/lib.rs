//! Procedural macros for [scopegate](https://docs.rs/scopegate): `#[route]`
//! and `#[routes]`. Use them through the `scopegate` crate, which documents
//! the DSL and re-exports both macros as `scopegate::route` and
//! `scopegate::routes`.
//!
//! Each macro runs three steps, each in its own (private) module: `parse`
//! reads the attribute's tokens, `model` checks them (collecting every
//! error) into a route or group, and `expand` writes the code. The known
//! scopes are one table in `scopes`. Build these docs with
//! `--document-private-items` to browse them.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{ItemFn, ItemMod};

mod cfg;
mod expand;
mod model;
mod parse;
mod path;
mod scopes;
mod suggest;

use model::{Ctxt, Enclosing, Group, Route};

/// Declares a scoped route on an `async fn`; see the `scopegate` crate docs.
///
/// `#[route(METHOD, "PATH", scopes = ["..."])]` or
/// `#[route(METHOD, "PATH", public)]`.
#[proc_macro_attribute]
pub fn route(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut func = match syn::parse::<ItemFn>(input.clone()) {
        Ok(func) => func,
        Err(_) => {
            return refuse(
                input,
                "`#[route]` goes on an `async fn` handler: write \
                 `#[route(get, \"/health\")] async fn health() -> ..`",
            )
        }
    };
    let mut cx = Ctxt::default();
    // A second `#[route]`, written as such or through a `#[cfg_attr]` that
    // rustc has already applied, would expand inside the first one.
    for attr in model::take_route_macros(&mut func.attrs) {
        cx.error_spanned(
            attr,
            "a handler has one `#[route]`: remove this one, and declare another handler \
             for another route",
        );
    }
    let route = Route::new(&mut cx, syn::parse(args), func, &Enclosing::default());
    finish(expand::route(&route), cx)
}

/// Declares a group of scoped routes on an inline `mod`; see the `scopegate`
/// crate docs.
///
/// `#[routes(prefix = "/...", scopes = ["..."])]`, both optional. The module
/// gets `pub fn configure(cfg: &mut web::ServiceConfig)`, which registers
/// every route of the group and of the groups nested in it, and
/// `pub const ROUTES: &[scopegate::RouteInfo]`, which lists them.
///
/// # Wrong method: 405
///
/// A request for a path the group declares, with a method it does not
/// declare for that path, gets `405 {"detail": "Method Not Allowed"}` with
/// an `Allow` header listing the methods the group declares for the path
/// (sorted: `Allow: DELETE, GET, PUT`), as FastAPI answers. No token is
/// read for it. An unknown path stays 404. To do this, `configure` adds,
/// after all the group's routes, one fallback resource per path that
/// answers every method.
///
/// So **routes that share a path belong in one top-level group**: nest
/// groups (`#[routes]` on a `mod` inside another) to give them different
/// prefixes or scopes. A group registered separately, after another group
/// that has a route on the same path, is shadowed by that group's fallback
/// for the path: its requests get the 405. And a route registered alone
/// with `.service(route)` has no fallback: other methods on its path get
/// actix's 404.
///
/// # `#[cfg]`
///
/// A route or nested group under `#[cfg(..)]` (or a `#[cfg_attr(..)]` that
/// adds one) exists only when its cfg holds: otherwise it is not
/// registered, not in `ROUTES` and not in any `Allow`. Two routes with the
/// same method and path are refused when their cfgs are the same (or
/// absent); under different cfgs, the build fails only in the
/// configurations where both exist. Write `#[cfg(..)]` and `#[route(..)]`
/// as two attributes: `#[routes]` cannot see a `#[route]` inside a
/// `#[cfg_attr(..)]`, and says so.
#[proc_macro_attribute]
pub fn routes(args: TokenStream, input: TokenStream) -> TokenStream {
    let module = match syn::parse::<ItemMod>(input.clone()) {
        Ok(module) => module,
        Err(_) => {
            return refuse(
                input,
                "`#[routes]` goes on an inline module: write \
                 `#[routes(prefix = \"/...\")] mod name { .. }`",
            )
        }
    };
    let mut cx = Ctxt::default();
    let group = Group::top(&mut cx, syn::parse(args), module);
    finish(expand::group(&group), cx)
}

/// The expansion followed by every collected error.
fn finish(mut tokens: TokenStream2, cx: Ctxt) -> TokenStream {
    if let Some(errors) = cx.finish() {
        tokens.extend(errors.to_compile_error());
    }
    tokens.into()
}

/// The input unchanged, with an error on its name.
fn refuse(input: TokenStream, message: &str) -> TokenStream {
    let input = TokenStream2::from(input);
    let span = parse::item_name_span(input.clone());
    let error = syn::Error::new(span, message).to_compile_error();
    quote!(#input #error).into()
}
