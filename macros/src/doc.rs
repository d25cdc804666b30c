//! What a route documents in OpenAPI (SPEC §8), read from the handler (its
//! doc comment, its `web::Path` and `web::Json` arguments, its return type)
//! and from its `request = T` and `responses(..)` options.
//!
//! Everything here is read and checked whether the `openapi` feature is on
//! or not, so a route compiles the same either way; [`crate::expand`]
//! writes it out only with the feature.

use std::collections::BTreeSet;

use proc_macro2::Group;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, Ident, ItemFn, Lit, LitInt, PathArguments,
    ReturnType, Token, Type,
};

use crate::model::Ctxt;

/// The type of a path parameter, as the schema will give it: the variants
/// of `scopegate::openapi::ParamType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamKind {
    String,
    Uuid,
    Int32,
    Int64,
    UInt32,
    UInt64,
    Float,
    Double,
    Boolean,
}

impl ParamKind {
    /// The name of the `scopegate::openapi::ParamType` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            ParamKind::String => "String",
            ParamKind::Uuid => "Uuid",
            ParamKind::Int32 => "Int32",
            ParamKind::Int64 => "Int64",
            ParamKind::UInt32 => "UInt32",
            ParamKind::UInt64 => "UInt64",
            ParamKind::Float => "Float",
            ParamKind::Double => "Double",
            ParamKind::Boolean => "Boolean",
        }
    }

    /// The kind of a scalar type written `ty`; `None` for any other type.
    fn of(ty: &Type) -> Option<ParamKind> {
        let ident = match ty {
            Type::Reference(r) => return ParamKind::of(&r.elem),
            Type::Paren(p) => return ParamKind::of(&p.elem),
            Type::Group(g) => return ParamKind::of(&g.elem),
            Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                if !last.arguments.is_none() {
                    return None;
                }
                last.ident.to_string()
            }
            _ => return None,
        };
        Some(match ident.as_str() {
            "String" | "str" => ParamKind::String,
            "Uuid" => ParamKind::Uuid,
            "i8" | "i16" | "i32" => ParamKind::Int32,
            "i64" | "isize" => ParamKind::Int64,
            "u8" | "u16" | "u32" => ParamKind::UInt32,
            "u64" | "usize" => ParamKind::UInt64,
            "f32" => ParamKind::Float,
            "f64" => ParamKind::Double,
            "bool" => ParamKind::Boolean,
            _ => return None,
        })
    }
}

/// One entry of `responses(..)`: `404` or `201 = Body`.
pub(crate) struct DeclaredResponse {
    pub(crate) lit: LitInt,
    pub(crate) status: u16,
    pub(crate) body: Option<Type>,
}

/// What a checked route documents.
#[derive(Clone, Default)]
pub(crate) struct Documentation {
    /// The doc comment's first paragraph, on one line.
    pub(crate) summary: Option<String>,
    /// The doc comment after its first paragraph.
    pub(crate) description: Option<String>,
    /// The group modules around the route and its name, joined by `_`.
    pub(crate) operation_id: String,
    /// The innermost group's module name.
    pub(crate) tag: Option<String>,
    /// Every path parameter of the full path, in order, with its type.
    pub(crate) params: Vec<(String, ParamKind)>,
    /// The JSON request body's type.
    pub(crate) request: Option<Type>,
    /// Statuses and their JSON bodies' types.
    pub(crate) responses: Vec<(u16, Option<Type>)>,
}

impl std::fmt::Debug for Documentation {
    /// Types as their tokens (syn's types are not `Debug` here).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = |ty: &Option<Type>| ty.as_ref().map(|t| quote::quote!(#t).to_string());
        f.debug_struct("Documentation")
            .field("summary", &self.summary)
            .field("description", &self.description)
            .field("operation_id", &self.operation_id)
            .field("tag", &self.tag)
            .field("params", &self.params)
            .field("request", &text(&self.request))
            .field(
                "responses",
                &self
                    .responses
                    .iter()
                    .map(|(s, t)| (s, text(t)))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

const RESPONSE_USAGE: &str = "a response is a status code, optionally with the type of its JSON \
     body: write e.g. `responses(201 = MyBody, 404)`";

/// Reads the entries of `responses(..)`, reporting every malformed,
/// out-of-range or repeated one.
pub(crate) fn responses(cx: &mut Ctxt, key: &Ident, list: &Group) -> Option<Vec<DeclaredResponse>> {
    let parser = |input: ParseStream<'_>| {
        Punctuated::<(LitInt, Option<Type>), Token![,]>::parse_terminated_with(input, |input| {
            let lit: LitInt = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), RESPONSE_USAGE))?;
            let body = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                Some(
                    input
                        .parse::<Type>()
                        .map_err(|e| syn::Error::new(e.span(), RESPONSE_USAGE))?,
                )
            } else {
                None
            };
            if !input.is_empty() && !input.peek(Token![,]) {
                return Err(input.error(RESPONSE_USAGE));
            }
            Ok((lit, body))
        })
    };
    let entries = match parser.parse2(list.stream()) {
        Ok(entries) => entries,
        Err(e) => {
            cx.push(e);
            return None;
        }
    };
    if entries.is_empty() {
        cx.error(
            key.span(),
            "`responses()` lists no status: write e.g. `responses(201 = MyBody, 404)`, or remove it",
        );
        return None;
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (lit, body) in entries {
        let status = match lit.base10_parse::<u16>() {
            Ok(status) if (100..=599).contains(&status) && lit.suffix().is_empty() => status,
            _ => {
                cx.error(
                    lit.span(),
                    format!(
                        "`{lit}` is not an HTTP status code: write a number from 100 to 599, \
                         e.g. `404`"
                    ),
                );
                continue;
            }
        };
        if !seen.insert(status) {
            cx.error(
                lit.span(),
                format!("status `{status}` is listed twice in `responses`: remove this one"),
            );
            continue;
        }
        out.push(DeclaredResponse { lit, status, body });
    }
    Some(out)
}

/// The handler's doc comment: its first paragraph on one line, and the
/// rest. Only `#[doc = "literal"]` attributes (what `///` writes) count.
pub(crate) fn summary_and_description(attrs: &[Attribute]) -> (Option<String>, Option<String>) {
    let mut lines: Vec<String> = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = &nv.value
        {
            let value = s.value();
            lines.extend(
                value
                    .split('\n')
                    .map(|l| l.trim_end_matches('\r').to_owned()),
            );
        }
    }
    // Like rustdoc: the indentation all lines share is not the text's.
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect();
    let text = lines.join("\n");
    let text = text.trim();
    if text.is_empty() {
        return (None, None);
    }
    let (first, rest) = text.split_once("\n\n").unwrap_or((text, ""));
    let summary = first.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = rest.trim();
    (Some(summary), (!rest.is_empty()).then(|| rest.to_owned()))
}

/// The one type argument of `ty` when its last segment is `name`:
/// `web::Json<T>` → `T` for `name` = `Json`.
fn unwrap<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The types of the handler's arguments.
fn argument_types(func: &ItemFn) -> impl Iterator<Item = &Type> {
    func.sig.inputs.iter().filter_map(|arg| match arg {
        FnArg::Typed(arg) => Some(&*arg.ty),
        FnArg::Receiver(_) => None,
    })
}

/// The `T` of the handler's first `web::Json<T>` argument.
pub(crate) fn json_argument(func: &ItemFn) -> Option<Type> {
    argument_types(func).find_map(|ty| unwrap(ty, "Json").cloned())
}

/// The `T` of a handler that returns `web::Json<T>`, or a `Result` of one.
pub(crate) fn json_return(func: &ItemFn) -> Option<Type> {
    let ReturnType::Type(_, ty) = &func.sig.output else {
        return None;
    };
    let ty = unwrap(ty, "Result").unwrap_or(ty);
    unwrap(ty, "Json").cloned()
}

/// The type of each of `params` (the full path's, in order): UUID for
/// those in `uuids` (owners compared as UUIDs), else from the handler's
/// `web::Path<T>` (a scalar for one parameter, a tuple for all of them),
/// else a string.
pub(crate) fn param_types(
    func: &ItemFn,
    params: &[&str],
    uuids: &[&str],
) -> Vec<(String, ParamKind)> {
    let extracted: Vec<Option<ParamKind>> = argument_types(func)
        .find_map(|ty| unwrap(ty, "Path"))
        .map(|inner| match inner {
            Type::Tuple(t) if t.elems.len() == params.len() => {
                t.elems.iter().map(ParamKind::of).collect()
            }
            Type::Tuple(_) => Vec::new(),
            one if params.len() == 1 => vec![ParamKind::of(one)],
            _ => Vec::new(),
        })
        .unwrap_or_default();
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let kind = if uuids.contains(p) {
                ParamKind::Uuid
            } else {
                extracted
                    .get(i)
                    .copied()
                    .flatten()
                    .unwrap_or(ParamKind::String)
            };
            ((*p).to_owned(), kind)
        })
        .collect()
}

/// Standard types, whose schema utoipa writes in place; any other is a
/// named schema, referenced from the components. The same rule as
/// utoipa's own macros.
const STANDARD: [&str; 34] = [
    "bool",
    "char",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
    "String",
    "str",
    "Vec",
    "Option",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "LinkedList",
    "IndexMap",
    "IndexSet",
    "Box",
    "Cow",
    "Rc",
    "Arc",
    "RefCell",
    "Value",
    "VecDeque",
];

/// Whether `ty` is a standard type (see [`STANDARD`]), or a reference,
/// slice or tuple.
pub(crate) fn is_standard(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| STANDARD.iter().any(|n| s.ident == n)),
        Type::Paren(p) => is_standard(&p.elem),
        Type::Group(g) => is_standard(&g.elem),
        Type::Reference(_) | Type::Slice(_) | Type::Array(_) | Type::Tuple(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn summary_is_the_first_paragraph_description_the_rest() {
        let func: ItemFn = parse_quote! {
            /// queued → running. The only route a workload token
            /// may call.
            ///
            /// Its answer swaps the token.
            ///
            ///     indented code stays indented
            async fn run() {}
        };
        let (summary, description) = summary_and_description(&func.attrs);
        assert_eq!(
            summary.as_deref(),
            Some("queued → running. The only route a workload token may call.")
        );
        assert_eq!(
            description.as_deref(),
            Some("Its answer swaps the token.\n\n    indented code stays indented")
        );
        let bare: ItemFn = parse_quote!(
            async fn f() {}
        );
        assert_eq!(summary_and_description(&bare.attrs), (None, None));
    }

    #[test]
    fn path_parameters_take_their_types_from_web_path() {
        let func: ItemFn = parse_quote! {
            async fn item(path: web::Path<(String, String, i64, uuid::Uuid, u8, bool, Custom)>) {}
        };
        let kinds: Vec<ParamKind> = param_types(
            &func,
            &["a", "task_instance_id", "offset", "id", "n", "flag", "c"],
            &["task_instance_id"],
        )
        .into_iter()
        .map(|(_, k)| k)
        .collect();
        assert_eq!(
            kinds,
            [
                ParamKind::String,
                ParamKind::Uuid,
                ParamKind::Int64,
                ParamKind::Uuid,
                ParamKind::UInt32,
                ParamKind::Boolean,
                ParamKind::String,
            ]
        );
        let one: ItemFn = parse_quote!(
            async fn f(p: Path<u64>) {}
        );
        assert_eq!(param_types(&one, &["n"], &[])[0].1, ParamKind::UInt64);
        // A tuple of the wrong length, or a struct: strings.
        let wrong: ItemFn = parse_quote!(
            async fn f(p: Path<(u64,)>) {}
        );
        assert_eq!(
            param_types(&wrong, &["a", "b"], &[])[1].1,
            ParamKind::String
        );
    }

    #[test]
    fn json_bodies_in_and_out() {
        let func: ItemFn = parse_quote! {
            async fn f(a: web::Data<S>, b: web::Json<Vec<In>>) -> actix_web::Result<Json<Out>> {}
        };
        let request = json_argument(&func).unwrap();
        assert_eq!(quote::quote!(#request).to_string(), "Vec < In >");
        let response = json_return(&func).unwrap();
        assert_eq!(quote::quote!(#response).to_string(), "Out");
        let plain: ItemFn = parse_quote!(
            async fn f() -> HttpResponse {}
        );
        assert!(json_argument(&plain).is_none() && json_return(&plain).is_none());
        assert!(is_standard(&parse_quote!(Vec<In>)));
        assert!(is_standard(&parse_quote!(serde_json::Value)));
        assert!(!is_standard(&parse_quote!(models::In)));
    }

    #[test]
    fn responses_are_statuses_with_optional_bodies() {
        let read = |tokens: proc_macro2::TokenStream| {
            let mut cx = Ctxt::default();
            let group = Group::new(proc_macro2::Delimiter::Parenthesis, tokens);
            let key: Ident = parse_quote!(responses);
            let out = responses(&mut cx, &key, &group);
            let errors: Vec<String> = cx
                .finish()
                .map(|e| e.into_iter().map(|e| e.to_string()).collect())
                .unwrap_or_default();
            (
                out.map(|v| v.iter().map(|r| r.status).collect::<Vec<_>>()),
                errors,
            )
        };
        assert_eq!(
            read(quote::quote!(201 = Body, 404, 409 = Vec<Detail>,)),
            (Some(vec![201, 404, 409]), vec![])
        );
        let (_, errors) = read(quote::quote!(600, 404, 404, 200u8));
        assert_eq!(errors.len(), 3, "{errors:?}");
        let (out, errors) = read(quote::quote!(ok = Body));
        assert!(out.is_none());
        assert_eq!(errors, [RESPONSE_USAGE]);
        let (_, errors) = read(quote::quote!());
        assert!(errors[0].starts_with("`responses()` lists no status"));
    }
}
