//! actix-web's own route attributes under `#[protect]` (SPEC §7): read the
//! method and path from `#[get("/..")]` (or `#[route("/..", method = "..")]`,
//! by name or by path), and write the attribute back with the full path and
//! scopegate's `Enforce` added as a `wrap`, which actix-web's macros accept.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parse_quote, Attribute, Expr, ExprLit, ItemFn, Lit, LitStr, MetaNameValue, Token};

use crate::attrs::{self, Kind};
use crate::model::{Ctxt, Method};
use crate::suggest;

/// The `wrap` scopegate adds: the route's enforcement, with the policy the
/// expansion attaches to actix's generated struct.
const WRAP: &str = "::scopegate::Enforce::new(&Self::POLICY)";

/// The same, for a route with guards, which the expansion also attaches.
const WRAP_GUARDED: &str = "::scopegate::Enforce::new(&Self::POLICY).with_guards(Self::GUARDS)";

/// An actix-web route attribute, read.
#[derive(Clone)]
pub(crate) struct ActixRoute {
    /// The attribute as written.
    pub(crate) attr: Attribute,
    /// Where it is among the handler's attributes.
    pub(crate) index: usize,
    /// The path string.
    pub(crate) path: LitStr,
    /// Every argument after the path (`name`, `guard`, `wrap`, `method`),
    /// kept as written.
    pub(crate) rest: Vec<MetaNameValue>,
}

/// `"/path", key = value, ...`, as actix-web's macros read their arguments.
struct Args {
    path: LitStr,
    rest: Vec<MetaNameValue>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path = input.parse()?;
        let mut rest = Vec::new();
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
            rest = Punctuated::<MetaNameValue, Token![,]>::parse_terminated(input)?
                .into_iter()
                .collect();
        }
        Ok(Args { path, rest })
    }
}

/// The message for a `#[protect]` with no actix-web route attribute under
/// it.
pub(crate) const MISSING: &str = "`#[protect]` reads the method and path from an actix-web route \
     attribute under it: add one below `#[protect(..)]`, e.g. `#[get(\"/items/{item_id}\")]` (an \
     actix attribute above `#[protect]` expands first, so `#[protect]` cannot see it)";

/// The handler's one actix-web route attribute and the method it declares,
/// or the reason there is none, reported at `protect` (the `#[protect]`).
pub(crate) fn read(
    cx: &mut Ctxt,
    func: &ItemFn,
    protect: Span,
) -> Option<(ActixRoute, Option<Method>)> {
    let mut found = func
        .attrs
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match attrs::kind(a) {
            Kind::Actix(name) => Some((i, a, name)),
            _ => None,
        });
    let Some((index, attr, name)) = found.next() else {
        cx.error(protect, MISSING);
        return None;
    };
    for (_, extra, _) in found {
        cx.error_spanned(
            extra,
            "`#[protect]` protects one actix-web route attribute, and this handler has \
             several: declare one handler per route",
        );
    }
    if name == "routes" {
        cx.error_spanned(
            attr,
            "`#[protect]` goes above one actix-web route attribute, not actix's `#[routes]`: \
             declare one handler per route",
        );
        return None;
    }
    let args = match attr.parse_args::<Args>() {
        Ok(args) => args,
        Err(e) => {
            cx.push(e);
            return None;
        }
    };
    let route = ActixRoute {
        attr: attr.clone(),
        index,
        path: args.path,
        rest: args.rest,
    };
    let method = match name {
        "route" => route_method(cx, &route),
        "connect" => {
            cx.error_spanned(
                attr.path(),
                "`#[protect]` covers GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS and TRACE \
                 routes, not CONNECT: use one of those methods, or remove `#[protect]`",
            );
            None
        }
        name => Method::from_keyword(name),
    };
    Some((route, method))
}

/// The one `method = ".."` of actix's `#[route]`.
fn route_method(cx: &mut Ctxt, route: &ActixRoute) -> Option<Method> {
    let methods: Vec<&MetaNameValue> = route
        .rest
        .iter()
        .filter(|nv| nv.path.is_ident("method"))
        .collect();
    let Some(first) = methods.first() else {
        cx.error_spanned(
            &route.attr,
            "actix-web's `#[route]` needs a method: add `method = \"GET\"` (or another)",
        );
        return None;
    };
    for extra in &methods[1..] {
        cx.error_spanned(
            extra,
            "`#[protect]` protects one method per handler: declare another handler for this \
             method",
        );
    }
    let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = &first.value
    else {
        cx.error_spanned(
            &first.value,
            "`method` takes a string: write `method = \"GET\"`",
        );
        return None;
    };
    let written = lit.value();
    if let Some(m) = Method::ALL.into_iter().find(|m| m.upper() == written) {
        return Some(m);
    }
    let uppers = Method::ALL.map(Method::upper);
    let uppers: Vec<&str> = uppers.iter().map(String::as_str).collect();
    let upper = written.to_uppercase();
    if uppers.contains(&upper.as_str()) {
        cx.error(
            lit.span(),
            format!("HTTP methods are written in upper case here: write `method = \"{upper}\"`"),
        );
        return None;
    }
    let message = match suggest::near_misses(&upper, &uppers).as_slice() {
        [] => format!(
            "`#[protect]` covers the methods {}: `{written}` is not one of them",
            suggest::list(&uppers)
        ),
        hints => format!(
            "unknown HTTP method `{written}`: did you mean {}?",
            suggest::alternatives(hints)
        ),
    };
    cx.error(lit.span(), message);
    None
}

impl ActixRoute {
    /// Whether the attribute adds actix guards (`guard = ".."`), which
    /// decide whether the route serves a request beyond its method and
    /// path.
    pub(crate) fn has_guards(&self) -> bool {
        self.rest.iter().any(|arg| arg.path.is_ident("guard"))
    }

    /// The attribute again, with `path` (the full path, group prefixes
    /// included) and scopegate's enforcement as its outermost `wrap`: actix
    /// applies its `wrap`s in order, so the last one runs first, before the
    /// user's own middleware and the handler's body extractors.
    pub(crate) fn rewritten(&self, path: &str, guarded: bool) -> Attribute {
        let attr_path = self.attr.path();
        let lit = LitStr::new(path, self.path.span());
        let rest = &self.rest;
        let wrap = if guarded { WRAP_GUARDED } else { WRAP };
        parse_quote!(#[#attr_path(#lit, #(#rest,)* wrap = #wrap)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn read_fn(func: ItemFn) -> (Option<(ActixRoute, Option<Method>)>, Vec<String>) {
        let mut cx = Ctxt::default();
        let found = read(&mut cx, &func, Span::call_site());
        let errs = cx
            .finish()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default();
        (found, errs)
    }

    #[test]
    fn methods_and_paths_from_every_form() {
        let (found, errs) = read_fn(parse_quote! {
            /// Docs stay.
            #[actix_web::put("/items/{id}", name = "put_item")]
            async fn h() {}
        });
        assert!(errs.is_empty(), "{errs:?}");
        let (route, method) = found.unwrap();
        assert_eq!(method, Some(Method::Put));
        assert_eq!(route.index, 1);
        assert_eq!(route.path.value(), "/items/{id}");
        assert_eq!(
            route
                .rewritten("/shop/items/{id}", false)
                .to_token_stream()
                .to_string(),
            "# [actix_web :: put (\"/shop/items/{id}\" , name = \"put_item\" , wrap = \
             \"::scopegate::Enforce::new(&Self::POLICY)\")]"
        );
        let (found, _) = read_fn(parse_quote! {
            #[route("/x", method = "PATCH", guard = "g")]
            async fn h() {}
        });
        assert_eq!(found.unwrap().1, Some(Method::Patch));
    }

    #[test]
    fn what_protect_refuses() {
        let (found, errs) = read_fn(parse_quote!(
            async fn h() {}
        ));
        assert!(found.is_none());
        assert_eq!(errs, [MISSING]);
        let (_, errs) = read_fn(parse_quote! {
            #[route("/x", method = "get", method = "PUT")]
            async fn h() {}
        });
        assert_eq!(
            errs,
            [
                "`#[protect]` protects one method per handler: declare another handler for this \
                 method",
                "HTTP methods are written in upper case here: write `method = \"GET\"`",
            ]
        );
        let (_, errs) = read_fn(parse_quote! {
            #[route("/x")]
            async fn h() {}
        });
        assert_eq!(
            errs,
            ["actix-web's `#[route]` needs a method: add `method = \"GET\"` (or another)"]
        );
        let (_, errs) = read_fn(parse_quote! {
            #[connect("/x")]
            async fn h() {}
        });
        assert!(errs[0].ends_with("not CONNECT: use one of those methods, or remove `#[protect]`"));
        let (_, errs) = read_fn(parse_quote! {
            #[get("/x")]
            #[post("/x")]
            async fn h() {}
        });
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("this handler has several"));
        let (_, errs) = read_fn(parse_quote! {
            #[route("/x", method = "FETCH")]
            async fn h() {}
        });
        assert_eq!(
            errs,
            [
                "`#[protect]` covers the methods `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, \
              `OPTIONS`, `TRACE`: `FETCH` is not one of them"
            ]
        );
    }
}
