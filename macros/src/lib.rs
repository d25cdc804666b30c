//! Procedural macros for [scopegate](https://docs.rs/scopegate): `#[route]`,
//! `#[routes]`, `#[protect]` and `#[guard]`. Use them through the
//! `scopegate` crate, which documents the DSL and re-exports them as
//! `scopegate::route`, `scopegate::routes`, `scopegate::protect` and
//! `scopegate::guard`.
//!
//! Each macro runs three steps, each in its own (private) modules: `parse`
//! (and `actix`, for actix-web's route attributes under `#[protect]`) reads
//! the attribute's tokens; `model` (one route) and `group` (a `#[routes]`
//! module) check them, collecting every error; `expand` writes the code.
//! The words the checks know are the crate's vocabulary, `vocab`, read from
//! its `scopegate.toml` by `config` or Airflow's by default; `attrs` tells
//! which macro an attribute is; `scopes` reads `scopes = [..]` with its
//! `any(..)`s; `guard` checks a `#[guard]` function. Build these docs with
//! `--document-private-items` to browse them.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{ItemFn, ItemMod};

mod actix;
mod attrs;
mod cfg;
mod config;
mod doc;
mod expand;
mod group;
mod guard;
mod include;
mod model;
mod parse;
mod path;
mod scopes;
mod suggest;
#[cfg(test)]
mod tests;
mod vocab;

use group::Group;
use model::{Ctxt, Enclosing, Route};

/// Declares a scoped route on an `async fn`; see the `scopegate` crate docs.
///
/// `#[route(METHOD, "PATH", scopes = ["..."])]` or
/// `#[route(METHOD, "PATH", public)]`, and, on a path with a parameter an
/// owner scope guards that the route does not check, `unowned = ["param"]`
/// (otherwise a compile error: the ownership lint).
///
/// A path parameter is `<name>` (one segment) or `<name:path>`, which takes
/// the rest of the path, slashes included, never empty:
/// `"/variables/<variable_key:path>"` serves the key `team/db/password`.
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
    let config = config::for_crate();
    let mut cx = Ctxt::default();
    let enclosing = Enclosing::from_config(&mut cx, &config);
    // A second `#[route]`, written as such or through a `#[cfg_attr]` that
    // rustc has already applied, would expand inside the first one.
    for attr in group::take_route_macros(&mut func.attrs) {
        let message = if attrs::kind(&attr) == attrs::Kind::Protect {
            group::PROTECT_WITH_ROUTE
        } else {
            "a handler has one `#[route]`: remove this one, and declare another handler \
             for another route"
        };
        cx.error_spanned(attr, message);
    }
    let route = Route::new(&mut cx, syn::parse(args), func, &enclosing);
    finish(&config, expand::route(&route), cx)
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
/// (sorted: `Allow: DELETE, GET, PUT`), as FastAPI answers, unless a route
/// registered later serves it. No token is read for it. An unknown path
/// stays 404. To do this, the group marks such a request with the path's
/// methods, and `configure` makes `scopegate::Fallback` the app's default
/// service, which answers a marked request that no route served with the
/// 405. An app that sets its own default service wraps it:
/// `.default_service(scopegate::Fallback::or(web::to(not_found)))`.
///
/// # Routing
///
/// On the `App`, a top-level group registers one resource that finds the
/// request's route in one walk of a trie of the group's patterns, so a
/// request costs the same to route whether its route was declared first or
/// last, however many routes the group has; `match_pattern()`,
/// `match_info`, the first-declared route winning where two patterns
/// overlap, and actix's guards on a `#[protect]` handler stay as actix has
/// them. Inside a `web::scope`, the group's routes are registered one by
/// one. Register any route of your own whose pattern overlaps a group's
/// after the group (or inside a scope): registered before it, with another
/// method, it would lend its pattern to `req.match_pattern()` for the
/// group's requests on that path.
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
    let args = TokenStream2::from(args);
    match include::mode(&args) {
        include::Mode::Included => return include::replay(args, &module).into(),
        include::Mode::Includes(paths) => return include::chain(args, &module, &paths).into(),
        include::Mode::Plain => {}
    }
    let config = config::for_crate();
    let mut cx = Ctxt::default();
    let enclosing = Enclosing::from_config(&mut cx, &config);
    let group = Group::top(&mut cx, syn::parse2(args), module, &enclosing);
    finish(&config, expand::group(&group), cx)
}

/// Assembles a group and the groups in their own files it includes, then
/// expands the whole tree as one inline group. Not public API: the replay
/// macros of `#[routes(.., included)]` groups call it.
#[doc(hidden)]
#[proc_macro]
pub fn __routes_tree(input: TokenStream) -> TokenStream {
    include::tree(input.into()).into()
}

/// Protects a handler declared with one of actix-web's own route attributes;
/// see the `scopegate` crate docs.
///
/// `#[protect(scopes = ["..."], unowned = ["..."])]` (both optional) above
/// `#[get("/..")]`, `#[post]`, `#[put]`, `#[patch]`, `#[delete]`, `#[head]`,
/// `#[options]`, `#[trace]` or `#[route("/..", method = "..")]`, by name or
/// by path (`#[actix_web::get(..)]`). It checks the method, path and scopes
/// as `#[route]` does, and adds the route's enforcement to the actix
/// attribute as its outermost `wrap`. The struct actix generates gets the
/// same `POLICY` and `INFO` constants as a `#[route]`'s. Inside a
/// `#[routes]` group, the group's prefix and scopes apply, and the group
/// registers and lists the handler.
#[proc_macro_attribute]
pub fn protect(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut func = match syn::parse::<ItemFn>(input.clone()) {
        Ok(func) => func,
        Err(_) => {
            return refuse(
                input,
                "`#[protect]` goes on an `async fn` handler, above its actix-web route \
                 attribute: write `#[protect(scopes = [..])] #[get(\"/..\")] async fn ..`",
            )
        }
    };
    // scopegate's own `#[route]` below: it takes the scopes itself. Say so,
    // and let it expand as if `#[protect]` were not there.
    if func
        .attrs
        .iter()
        .any(|a| attrs::kind(a) == attrs::Kind::Route)
    {
        let error = syn::Error::new(proc_macro2::Span::call_site(), group::PROTECT_WITH_ROUTE);
        let error = error.to_compile_error();
        return quote!(#func #error).into();
    }
    let config = config::for_crate();
    let mut cx = Ctxt::default();
    let enclosing = Enclosing::from_config(&mut cx, &config);
    for attr in group::take_route_macros(&mut func.attrs) {
        cx.error_spanned(attr, "a handler has one `#[protect]`: remove this one");
    }
    let route = Route::protect(
        &mut cx,
        syn::parse(args),
        func,
        proc_macro2::Span::call_site(),
        &enclosing,
    );
    finish(&config, expand::route(&route), cx)
}

/// Declares a guard on an `async fn`; see the `scopegate` crate docs.
///
/// `#[guard]`, or `#[guard(params = ["dag_id"], statuses = [403, 404])]`,
/// on `async fn name(req: &HttpRequest, token: &Token) -> Result<(),
/// Deny>`. `params` are the path parameters the guard reads (a route that
/// names the guard must have them: a compile error otherwise), `statuses`
/// the 4xx statuses it refuses with (403 by default), for the route table
/// and the OpenAPI document. The function becomes a unit struct of the same
/// name, which `guard = name` on `#[route]`, `#[routes]` or `#[protect]`
/// names.
#[proc_macro_attribute]
pub fn guard(args: TokenStream, input: TokenStream) -> TokenStream {
    let func = match syn::parse::<ItemFn>(input.clone()) {
        Ok(func) => func,
        Err(_) => return refuse(input, guard::NOT_A_FUNCTION),
    };
    let mut cx = Ctxt::default();
    let args = if args.is_empty() {
        Ok(parse::GroupArgs {
            options: Vec::new(),
        })
    } else {
        syn::parse(args)
    };
    let checked = guard::Guard::new(&mut cx, args, func.clone());
    let mut tokens = match &checked {
        Some(guard) => expand::guard(guard),
        None => expand::guard_stub(&func),
    };
    if let Some(errors) = cx.finish() {
        tokens.extend(errors.to_compile_error());
    }
    tokens.into()
}

/// The crate's vocabulary, from its `scopegate.toml` (or Airflow's without
/// one), as a constant `scopegate::Vocabulary`; see the `scopegate` crate
/// docs.
///
/// `const VOCABULARY: scopegate::Vocabulary = scopegate::vocabulary!();`
#[proc_macro]
pub fn vocabulary(input: TokenStream) -> TokenStream {
    let config = config::for_crate();
    let tracking = config.tracking();
    let mut errors = TokenStream2::new();
    if !input.is_empty() {
        let input = TokenStream2::from(input);
        errors.extend(
            syn::Error::new_spanned(
                input,
                "`vocabulary!()` takes no arguments: it reads this crate's scopegate.toml",
            )
            .to_compile_error(),
        );
    }
    let value = match &config.vocabulary {
        Ok(vocab) => expand::vocabulary(vocab),
        Err(_) => {
            for message in config.errors() {
                errors.extend(
                    syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error(),
                );
            }
            quote!(::scopegate::Vocabulary::AIRFLOW)
        }
    };
    quote!({ #tracking #errors #value }).into()
}

/// The expansion, the item that tracks `scopegate.toml`, and every
/// collected error.
fn finish(config: &config::Config, mut tokens: TokenStream2, cx: Ctxt) -> TokenStream {
    tokens.extend(config.tracking());
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
