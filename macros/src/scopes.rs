//! `scopes = [..]`: scope strings, and `any(..)` / `all(..)` of them (SPEC
//! §10). [`read`] reads the expression's shape, refusing forms the DSL does
//! not have; [`resolve`] looks every string up in the crate's vocabulary.
//! What the items mean for a route (its types, owners, permissions and
//! alternatives, and the rules across them) is [`crate::model`]'s.

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprCall, ExprLit, Ident, Lit, LitStr};

use crate::model::Ctxt;
use crate::suggest;
use crate::vocab::{ScopeId, Vocabulary};

/// One item of `scopes = [..]`, as written.
pub(crate) enum ScopeExpr {
    /// `"ti:self"`.
    One(LitStr),
    /// `any(..)`.
    Any(AnyExpr),
}

/// `any(a, all(b, c))`, as written.
pub(crate) struct AnyExpr {
    /// The `any` keyword.
    pub(crate) span: Span,
    pub(crate) alternatives: Vec<Vec<LitStr>>,
}

/// The functions `scopes = [..]` knows.
const FUNCTIONS: [&str; 2] = ["any", "all"];

const USAGE: &str = "`scopes` takes a list of strings and `any(..)`s: write \
     `scopes = [\"ti:self\"]` or `scopes = [any(\"account:self\", \"ledger:admin\")]`";

const ELEMENT: &str =
    "a scope is a string literal, or `any(..)` of them: write e.g. `\"ti:self\"` \
     or `any(\"account:self\", \"ledger:admin\")`";

/// The items of `scopes = [..]`; `None` (after an error) when it is not a
/// list.
pub(crate) fn read(cx: &mut Ctxt, key: &Ident, value: Option<Expr>) -> Option<Vec<ScopeExpr>> {
    let Some(Expr::Array(array)) = value else {
        cx.error(key.span(), USAGE);
        return None;
    };
    let mut items = Vec::new();
    for elem in array.elems {
        match elem {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => items.push(ScopeExpr::One(lit)),
            Expr::Call(call) => match function(cx, &call).as_deref() {
                Some("any") => {
                    if let Some(any) = read_any(cx, call) {
                        items.push(ScopeExpr::Any(any));
                    }
                }
                Some(_) => cx.error_spanned(
                    &call.func,
                    "every scope of `scopes = [..]` is required already, so `all(..)` adds \
                     nothing here: write its scopes directly in the list (`all(..)` groups \
                     scopes inside `any(..)`)",
                ),
                None => {}
            },
            other => cx.error_spanned(other, ELEMENT),
        }
    }
    Some(items)
}

/// The name of a call's function, `any` or `all`; `None` after reporting
/// anything else.
fn function(cx: &mut Ctxt, call: &ExprCall) -> Option<String> {
    let name = match &*call.func {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().map(Ident::to_string),
        _ => None,
    };
    match name {
        Some(name) if FUNCTIONS.contains(&name.as_str()) => Some(name),
        Some(name) => {
            let mut hints = suggest::near_misses(&name, &FUNCTIONS);
            if hints.is_empty() {
                hints = FUNCTIONS
                    .into_iter()
                    .filter(|f| name.starts_with(f))
                    .collect();
            }
            let fix = if hints.is_empty() {
                "write `any(..)` (one of its items) or, inside it, `all(..)` (every item)"
                    .to_owned()
            } else {
                format!("did you mean {}?", suggest::alternatives(&hints))
            };
            cx.error_spanned(
                &call.func,
                format!("unknown scope expression `{name}(..)`: {fix}"),
            );
            None
        }
        None => {
            cx.error_spanned(&call.func, ELEMENT);
            None
        }
    }
}

/// `any(..)`'s alternatives: strings and `all(..)`s of strings.
fn read_any(cx: &mut Ctxt, call: ExprCall) -> Option<AnyExpr> {
    let span = call.func.span();
    let before = cx.count();
    let mut alternatives = Vec::new();
    let count = call.args.len();
    for arg in call.args {
        match arg {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => alternatives.push(vec![lit]),
            Expr::Call(inner) => match function(cx, &inner).as_deref() {
                Some("all") => {
                    if let Some(all) = read_all(cx, inner) {
                        alternatives.push(all);
                    }
                }
                Some(_) => cx.error_spanned(
                    &inner.func,
                    "an `any(..)` inside `any(..)` adds nothing: write its alternatives in the \
                     outer `any(..)`",
                ),
                None => {}
            },
            other => cx.error_spanned(other, ELEMENT),
        }
    }
    if count < 2 && cx.count() == before {
        cx.error(
            span,
            "`any(..)` needs at least two alternatives, e.g. `any(\"account:self\", \
             \"ledger:admin\")`; a single scope is written as a string in `scopes = [..]`",
        );
    }
    (cx.count() == before).then_some(AnyExpr { span, alternatives })
}

/// `all(..)`'s scopes: strings only.
fn read_all(cx: &mut Ctxt, call: ExprCall) -> Option<Vec<LitStr>> {
    let span = call.func.span();
    let before = cx.count();
    let mut lits = Vec::new();
    for arg in &call.args {
        match arg {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => lits.push(lit.clone()),
            other => cx.error_spanned(
                other,
                "inside `all(..)`, write scope strings: `all(\"a\", \"b\")`; for \"a and (b or \
                 c)\", write `any(all(\"a\", \"b\"), all(\"a\", \"c\"))`",
            ),
        }
    }
    if call.args.len() < 2 && cx.count() == before {
        cx.error(
            span,
            "`all(..)` needs at least two scopes, e.g. `all(\"reports:read\", \
             \"entries:write\")`; a single scope is written as a string",
        );
    }
    (cx.count() == before).then_some(lits)
}

/// One item of `scopes = [..]`, looked up in the vocabulary.
#[derive(Clone, Debug)]
pub(crate) enum Item {
    /// A token type, an owner or a permission.
    Scope(ScopeId),
    /// `any(..)`.
    Any(ResolvedAny),
}

/// An `any(..)` whose scopes are all known.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedAny {
    /// The `any` keyword.
    pub(crate) span: Span,
    /// Each alternative's scopes, with where each was written.
    pub(crate) alternatives: Vec<Vec<(ScopeId, Span)>>,
}

impl ResolvedAny {
    /// Every scope in it, with where it was written.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = (ScopeId, Span)> + '_ {
        self.alternatives.iter().flatten().copied()
    }
}

/// Looks every scope up; reports unknown ones and repeats (at the top
/// level, and inside one `any(..)` alternative). Items with an unknown
/// scope are left out.
pub(crate) fn resolve(cx: &mut Ctxt, vocab: &Vocabulary, items: &[ScopeExpr]) -> Vec<Item> {
    let mut resolved = Vec::new();
    let mut top: Vec<ScopeId> = Vec::new();
    for item in items {
        match item {
            ScopeExpr::One(lit) => {
                if let Some(id) = lookup(cx, vocab, lit, &mut top) {
                    resolved.push(Item::Scope(id));
                }
            }
            ScopeExpr::Any(any) => {
                let before = cx.count();
                let mut alternatives = Vec::new();
                let mut seen_alternatives: Vec<Vec<ScopeId>> = Vec::new();
                for alternative in &any.alternatives {
                    let mut ids = Vec::new();
                    let mut spans = Vec::new();
                    for lit in alternative {
                        if let Some(id) = lookup(cx, vocab, lit, &mut ids) {
                            spans.push((id, lit.span()));
                        }
                    }
                    let mut sorted = ids.clone();
                    sorted.sort_unstable();
                    if seen_alternatives.contains(&sorted) {
                        if let Some(lit) = alternative.first() {
                            cx.error(
                                lit.span(),
                                "this alternative is listed twice in this `any(..)`: remove \
                                 this one",
                            );
                        }
                    }
                    seen_alternatives.push(sorted);
                    alternatives.push(spans);
                }
                if cx.count() == before {
                    resolved.push(Item::Any(ResolvedAny {
                        span: any.span,
                        alternatives,
                    }));
                }
            }
        }
    }
    resolved
}

/// The scope `lit` names, unless unknown or already in `seen`.
fn lookup(
    cx: &mut Ctxt,
    vocab: &Vocabulary,
    lit: &LitStr,
    seen: &mut Vec<ScopeId>,
) -> Option<ScopeId> {
    let name = lit.value();
    match vocab.lookup(&name) {
        Some(id) if seen.contains(&id) => {
            cx.error(
                lit.span(),
                format!("scope `{name}` is listed twice: remove this one"),
            );
            None
        }
        Some(id) => {
            seen.push(id);
            Some(id)
        }
        None => {
            cx.error(lit.span(), vocab.unknown_message(&name));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn errors(value: Expr) -> Vec<String> {
        let mut cx = Ctxt::default();
        let key: Ident = parse_quote!(scopes);
        let read = read(&mut cx, &key, Some(value));
        if let Some(items) = read {
            resolve(&mut cx, &Vocabulary::airflow(), &items);
        }
        cx.finish()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn forms_the_dsl_has() {
        assert!(errors(parse_quote!([
            "ti:self",
            any("ti:self", all("token:workload", "ct:self"))
        ]))
        .is_empty());
        assert!(errors(parse_quote!([])).is_empty());
    }

    #[test]
    fn forms_it_does_not() {
        let one = |e: Expr| {
            let errs = errors(e);
            assert_eq!(errs.len(), 1, "{errs:?}");
            errs[0].clone()
        };
        assert!(one(parse_quote!([all("ti:self", "ct:self")])).starts_with("every scope of"));
        assert!(one(parse_quote!([any()])).starts_with("`any(..)` needs at least two"));
        assert!(one(parse_quote!([any("ti:self")])).starts_with("`any(..)` needs at least two"));
        assert!(
            one(parse_quote!([any("ti:self", any("ct:self", "ti:self"))]))
                .starts_with("an `any(..)` inside `any(..)`")
        );
        assert!(one(parse_quote!([any("ti:self", all("ct:self"))]))
            .starts_with("`all(..)` needs at least two"));
        assert!(one(parse_quote!([any(
            "ti:self",
            all("ct:self", any("a", "b"))
        )]))
        .starts_with("inside `all(..)`, write scope strings"));
        assert_eq!(
            one(parse_quote!([anny("ti:self", "ct:self")])),
            "unknown scope expression `anny(..)`: did you mean `any`?"
        );
        assert_eq!(
            one(parse_quote!([anyof("ti:self", "ct:self")])),
            "unknown scope expression `anyof(..)`: did you mean `any`?"
        );
        assert!(one(parse_quote!([any("ti:self", "ct:self", "ti:self")]))
            .starts_with("this alternative is listed twice"));
        assert!(one(parse_quote!([3])).starts_with("a scope is a string literal"));
        assert!(one(parse_quote!("ti:self")).starts_with("`scopes` takes a list"));
        assert_eq!(
            one(parse_quote!([any("ti:self", "ct:slef")])),
            "unknown scope `ct:slef`: did you mean `ct:self`?"
        );
    }
}
