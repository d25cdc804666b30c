//! Tokens -> raw arguments. This step only reads the shape of the
//! attribute; [`crate::model`] decides what the arguments mean, so that it
//! can report every mistake at once.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token, Type};

/// `#[route(METHOD, "PATH", option, ...)]`.
pub(crate) struct RouteArgs {
    pub(crate) method: Ident,
    pub(crate) path: LitStr,
    pub(crate) options: Vec<RawOption>,
}

/// `#[routes(option, ...)]`.
pub(crate) struct GroupArgs {
    pub(crate) options: Vec<RawOption>,
}

/// `key`, `key = value` or `key(..)`, e.g. `public`, `scopes = ["ti:self"]`,
/// `request = Body` or `responses(201 = Body, 404)`.
pub(crate) struct RawOption {
    pub(crate) key: Ident,
    pub(crate) value: RawValue,
}

/// What follows an option's key.
pub(crate) enum RawValue {
    /// Nothing: `public`.
    None,
    /// `= expression`.
    Expr(Expr),
    /// `= Type`, for the options that take a type (`request`).
    Type(Type),
    /// `(..)`, unparsed.
    List(Group),
}

/// The options whose value is a type.
const TYPE_OPTIONS: [&str; 1] = ["request"];

const ROUTE_USAGE: &str = "write `#[route(METHOD, \"PATH\")]`, e.g. `#[route(get, \"/health\")]`";

impl Parse for RouteArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(format!("expected the HTTP method: {ROUTE_USAGE}")));
        }
        let method = input.call(Ident::parse_any)?;
        if !input.peek(Token![,]) || !input.peek2(LitStr) {
            let at = if input.is_empty() {
                method.span()
            } else {
                input.span()
            };
            return Err(syn::Error::new(
                at,
                format!("expected the path as a string after the method: {ROUTE_USAGE}"),
            ));
        }
        input.parse::<Token![,]>()?;
        let path = input.parse()?;
        let mut options = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            options.push(input.parse()?);
        }
        Ok(RouteArgs {
            method,
            path,
            options,
        })
    }
}

impl Parse for GroupArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let options = Punctuated::<RawOption, Token![,]>::parse_terminated(input)?;
        Ok(GroupArgs {
            options: options.into_iter().collect(),
        })
    }
}

impl Parse for RawOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(
                "expected an option: write `scopes = [\"...\"]`, `public` or `prefix = \"/...\"`",
            ));
        }
        let key = input.call(Ident::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if TYPE_OPTIONS.iter().any(|o| key == o) {
                RawValue::Type(input.parse()?)
            } else {
                RawValue::Expr(input.parse()?)
            }
        } else if input.peek(syn::token::Paren) {
            match input.parse::<TokenTree>()? {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => RawValue::List(g),
                other => return Err(syn::Error::new(other.span(), "expected `(..)`")),
            }
        } else {
            RawValue::None
        };
        Ok(RawOption { key, value })
    }
}

/// Where to point an error about an item the attribute does not fit: its
/// name when it has one, else the attribute.
pub(crate) fn item_name_span(item: TokenStream) -> Span {
    match syn::parse2::<syn::Item>(item) {
        Ok(syn::Item::Struct(i)) => i.ident.span(),
        Ok(syn::Item::Enum(i)) => i.ident.span(),
        Ok(syn::Item::Union(i)) => i.ident.span(),
        Ok(syn::Item::Const(i)) => i.ident.span(),
        Ok(syn::Item::Static(i)) => i.ident.span(),
        Ok(syn::Item::Type(i)) => i.ident.span(),
        Ok(syn::Item::Trait(i)) => i.ident.span(),
        Ok(syn::Item::Fn(i)) => i.sig.ident.span(),
        Ok(syn::Item::Mod(i)) => i.ident.span(),
        _ => Span::call_site(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_args() {
        let args: RouteArgs = syn::parse_str(
            r#"patch, "/<id>/run", scopes = ["token:workload"], public, request = Vec<Body>,
               responses(201 = Body, 404),"#,
        )
        .unwrap();
        assert_eq!(args.method, "patch");
        assert_eq!(args.path.value(), "/<id>/run");
        let keys: Vec<_> = args.options.iter().map(|o| o.key.to_string()).collect();
        assert_eq!(keys, ["scopes", "public", "request", "responses"]);
        assert!(matches!(
            args.options[0].value,
            RawValue::Expr(Expr::Array(_))
        ));
        assert!(matches!(args.options[1].value, RawValue::None));
        assert!(matches!(args.options[2].value, RawValue::Type(_)));
        let RawValue::List(list) = &args.options[3].value else {
            panic!("responses(..) is a list");
        };
        assert_eq!(list.stream().to_string(), "201 = Body , 404");
    }

    #[test]
    fn route_args_need_method_and_path() {
        for bad in ["", r#""/health""#, "get", "get /health", r#"get, "/x", 3"#] {
            assert!(syn::parse_str::<RouteArgs>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_args() {
        let args: GroupArgs = syn::parse_str(r#"prefix = "/a", scopes = []"#).unwrap();
        assert_eq!(args.options.len(), 2);
        let empty: GroupArgs = syn::parse_str("").unwrap();
        assert!(empty.options.is_empty());
    }
}
