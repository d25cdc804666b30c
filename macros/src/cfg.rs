//! `#[cfg]` and `#[cfg_attr]` on routes and nested groups.
//!
//! A macro cannot evaluate a cfg: `#[routes]` sees a route's `#[cfg]`
//! unevaluated. So it copies the route's [`Conditions`] onto everything it
//! generates for the route (its struct, its `ROUTES` entry, its
//! registration, its method in a 405 `Allow` list), and the compiler keeps or
//! drops them all together: a route whose cfg is off does not exist.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::punctuated::Punctuated;
use syn::{parse_quote, Attribute, Meta, Token};

/// The conditions under which an item exists: its `#[cfg(..)]` attributes,
/// and its `#[cfg_attr(pred, ..)]` attributes reduced to the `cfg`s they
/// add (`#[cfg_attr(pred, cfg(x))]`); a `cfg_attr` that adds no `cfg`
/// (`#[cfg_attr(test, allow(..))]`) is no condition. Outer groups' come
/// first.
#[derive(Clone, Default)]
pub(crate) struct Conditions {
    attrs: Vec<Attribute>,
}

impl Conditions {
    /// The conditions `attrs` put on their item.
    pub(crate) fn of(attrs: &[Attribute]) -> Conditions {
        let attrs = attrs
            .iter()
            .filter_map(|attr| {
                reduce(&attr.meta).map(|meta| Attribute {
                    meta,
                    ..attr.clone()
                })
            })
            .collect();
        Conditions { attrs }
    }

    /// `self`, then `inner`'s: an item inside another exists when both do.
    pub(crate) fn and(&self, inner: &Conditions) -> Conditions {
        let mut attrs = self.attrs.clone();
        attrs.extend(inner.attrs.iter().cloned());
        Conditions { attrs }
    }

    /// The conditions as written, to compare them: two items whose
    /// conditions are the same text exist in the same configurations.
    pub(crate) fn text(&self) -> String {
        self.to_token_stream().to_string()
    }
}

impl ToTokens for Conditions {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for attr in &self.attrs {
            attr.to_tokens(tokens);
        }
    }
}

/// `meta` reduced to the `cfg` it adds, if any.
fn reduce(meta: &Meta) -> Option<Meta> {
    if meta.path().is_ident("cfg") {
        return Some(meta.clone());
    }
    let (predicate, metas) = cfg_attr(meta)?;
    let kept: Vec<Meta> = metas.iter().filter_map(reduce).collect();
    if kept.is_empty() {
        return None;
    }
    Some(parse_quote!(cfg_attr(#predicate, #(#kept),*)))
}

/// `cfg_attr(predicate, metas..)` split, or `None` for any other attribute
/// (or a malformed `cfg_attr`, which the compiler reports).
fn cfg_attr(meta: &Meta) -> Option<(Meta, Vec<Meta>)> {
    let Meta::List(list) = meta else {
        return None;
    };
    if !list.path.is_ident("cfg_attr") {
        return None;
    }
    let args = list
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    let mut args = args.into_iter();
    let predicate = args.next()?;
    Some((predicate, args.collect()))
}

/// A `#[route]`, `#[routes]` or `#[protect]` hidden in a
/// `#[cfg_attr(..)]`, which an enclosing macro cannot see.
pub(crate) struct Hidden {
    /// The `#[cfg_attr(..)]`, taken out of the item.
    pub(crate) attr: Attribute,
    /// `route`, `routes` or `protect`.
    pub(crate) name: &'static str,
    /// When it applies, as the user would write it in `#[cfg(..)]`.
    pub(crate) predicate: String,
}

/// Takes the first `#[cfg_attr(..)]` that hides a `#[route]`, `#[routes]`
/// or `#[protect]` out of `attrs`, so that it is reported once and never
/// expanded.
pub(crate) fn take_hidden_macro(attrs: &mut Vec<Attribute>) -> Option<Hidden> {
    let (index, name, predicate) = attrs.iter().enumerate().find_map(|(i, attr)| {
        let mut predicates = Vec::new();
        let name = find_hidden(&attr.meta, &mut predicates)?;
        let predicate = match predicates.as_slice() {
            [one] => quote!(#one),
            all => quote!(all(#(#all),*)),
        };
        Some((i, name, tidy(&predicate.to_string())))
    })?;
    Some(Hidden {
        attr: attrs.remove(index),
        name,
        predicate,
    })
}

/// Whether `attr` is a `#[cfg_attr(..)]` that hides a `#[route]`,
/// `#[routes]` or `#[protect]`.
pub(crate) fn hides_any(attr: &Attribute) -> bool {
    find_hidden(&attr.meta, &mut Vec::new()).is_some()
}

/// Whether `attr` is a `#[cfg_attr(..)]` that hides a `#[name]`.
pub(crate) fn hides(attr: &Attribute, name: &str) -> bool {
    find_hidden(&attr.meta, &mut Vec::new()) == Some(name)
}

fn find_hidden(meta: &Meta, predicates: &mut Vec<Meta>) -> Option<&'static str> {
    let (predicate, metas) = cfg_attr(meta)?;
    predicates.push(predicate);
    for meta in &metas {
        let last = meta.path().segments.last().map(|s| s.ident.to_string());
        match last.as_deref() {
            Some("route") => return Some("route"),
            Some("routes") => return Some("routes"),
            Some("protect") => return Some("protect"),
            _ => {}
        }
        if let Some(name) = find_hidden(meta, predicates) {
            return Some(name);
        }
    }
    predicates.pop();
    None
}

/// Token text as a person writes it: `all(unix, feature = "x")`, not
/// `all (unix , feature = "x")`.
fn tidy(text: &str) -> String {
    text.replace("# [", "#[")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::ItemFn;

    fn attrs(item: ItemFn) -> Vec<Attribute> {
        item.attrs
    }

    #[test]
    fn cfgs_and_the_cfgs_of_cfg_attrs_are_conditions() {
        let attrs = attrs(parse_quote! {
            /// Docs are no condition.
            #[cfg(feature = "x")]
            #[cfg_attr(test, allow(dead_code))]
            #[cfg_attr(unix, cfg(not(test)), inline)]
            #[cfg_attr(a, cfg_attr(b, cfg(c), deprecated), cfg_attr(d, inline))]
            #[inline]
            fn f() {}
        });
        assert_eq!(
            tidy(&Conditions::of(&attrs).text()),
            "#[cfg(feature = \"x\")] #[cfg_attr(unix, cfg(not(test)))] \
             #[cfg_attr(a, cfg_attr(b, cfg(c)))]"
        );
        let none = attrs_of_plain();
        assert_eq!(Conditions::of(&none).text(), "");
    }

    fn attrs_of_plain() -> Vec<Attribute> {
        attrs(parse_quote! {
            #[cfg_attr(test, allow(dead_code))]
            #[doc = "x"]
            fn f() {}
        })
    }

    #[test]
    fn outer_conditions_come_first() {
        let outer = Conditions::of(&attrs(parse_quote!(
            #[cfg(a)]
            fn f() {}
        )));
        let inner = Conditions::of(&attrs(parse_quote!(
            #[cfg(b)]
            fn f() {}
        )));
        assert_eq!(outer.and(&inner).text(), "# [cfg (a)] # [cfg (b)]");
    }

    #[test]
    fn route_macros_hidden_in_cfg_attr_are_found() {
        let found = |item: ItemFn| {
            let mut attrs = attrs(item);
            let hidden = take_hidden_macro(&mut attrs).map(|h| (h.name, h.predicate));
            assert!(hidden.is_none() || take_hidden_macro(&mut attrs).is_none());
            hidden
        };
        assert_eq!(
            found(parse_quote! {
                #[cfg_attr(feature = "x", route(get, "/x"))]
                fn f() {}
            }),
            Some(("route", "feature = \"x\"".to_owned()))
        );
        assert_eq!(
            found(parse_quote! {
                #[cfg_attr(unix, inline, cfg_attr(all(a, b), scopegate::routes))]
                fn f() {}
            }),
            Some(("routes", "all(unix, all(a, b))".to_owned()))
        );
        assert_eq!(
            found(parse_quote! {
                #[cfg_attr(unix, inline)]
                #[route(get, "/x")]
                fn f() {}
            }),
            None
        );
    }
}
