//! `#[scopegate::guard]` (SPEC §11): raw arguments and the `async fn` ->
//! the checked model of one guard. A guard is
//! `async fn name(req: &HttpRequest, token: &Token) -> Result<(), Deny>`;
//! the attribute turns it into a unit struct of the same name that
//! implements `scopegate::Guard` (the check) and `scopegate::GuardDecl`
//! (its name, the statuses it refuses with, and the path parameters it
//! reads, which every route that names it must have).

use syn::{Expr, ExprLit, FnArg, ItemFn, Lit};

use crate::model::Ctxt;
use crate::parse::{GroupArgs, RawOption, RawValue};
use crate::path::is_ident;
use crate::suggest;

/// The options `#[guard(..)]` takes.
const KEYS: [&str; 2] = ["params", "statuses"];

/// A guard with no error.
pub(crate) struct Guard {
    /// The `async fn`, without its `#[guard]`.
    pub(crate) func: ItemFn,
    /// The path parameters it reads.
    pub(crate) params: Vec<String>,
    /// The statuses it refuses with; 403 when none is declared.
    pub(crate) statuses: Vec<u16>,
}

/// The signature every message shows.
fn signature(name: &str) -> String {
    format!(
        "`async fn {name}(req: &HttpRequest, token: &scopegate::Token) -> Result<(), \
         scopegate::Deny>`"
    )
}

impl Guard {
    /// Checks `func` and the attribute's arguments; `None` after an error.
    pub(crate) fn new(cx: &mut Ctxt, args: syn::Result<GroupArgs>, func: ItemFn) -> Option<Guard> {
        let before = cx.count();
        let name = func.sig.ident.to_string();
        if func.sig.asyncness.is_none() {
            cx.error(
                func.sig.fn_token.span,
                format!("a guard is an `async fn`: write {}", signature(&name)),
            );
        }
        let typed = func
            .sig
            .inputs
            .iter()
            .filter(|a| matches!(a, FnArg::Typed(_)))
            .count();
        let receiver = func
            .sig
            .inputs
            .iter()
            .any(|a| matches!(a, FnArg::Receiver(_)));
        if typed != 2 || receiver || !func.sig.generics.params.is_empty() {
            cx.error(
                func.sig.paren_token.span.join(),
                format!(
                    "a guard takes the request and the token, and nothing else: write {}",
                    signature(&name)
                ),
            );
        }
        let (mut params, mut statuses) = (Vec::new(), Vec::new());
        match args {
            Ok(args) => {
                let mut seen: Vec<String> = Vec::new();
                for option in args.options {
                    let key = option.key.to_string();
                    if seen.contains(&key) {
                        cx.error(
                            option.key.span(),
                            format!("`{key}` is given twice: merge them into one list"),
                        );
                        continue;
                    }
                    seen.push(key.clone());
                    match key.as_str() {
                        "params" => params = read_params(cx, option),
                        "statuses" => statuses = read_statuses(cx, option),
                        _ => {
                            let hints = suggest::near_misses(&key, &KEYS);
                            let fix = if hints.is_empty() {
                                "`#[guard]` takes `params = [\"...\"]` (the path parameters \
                                 it reads) and `statuses = [..]` (the 4xx statuses it refuses \
                                 with)"
                                    .to_owned()
                            } else {
                                format!("did you mean {}?", suggest::alternatives(&hints))
                            };
                            cx.error(option.key.span(), format!("unknown option `{key}`: {fix}"));
                        }
                    }
                }
            }
            Err(e) => cx.push(e),
        }
        if statuses.is_empty() {
            statuses.push(403);
        }
        (cx.count() == before).then_some(Guard {
            func,
            params,
            statuses,
        })
    }

    /// The message of a route whose path lacks `param`, which this guard
    /// reads.
    pub(crate) fn missing_message(&self, param: &str) -> String {
        let name = &self.func.sig.ident;
        format!(
            "the guard `{name}` reads the path parameter `{param}`, which this route's path does \
             not have: add `<{param}>` to the path, or use another guard here"
        )
    }
}

/// The list after `key =`, or `None` after an error saying `usage`.
fn list(cx: &mut Ctxt, option: RawOption, usage: &str) -> Option<Vec<Expr>> {
    match option.value {
        RawValue::Expr(Expr::Array(array)) => Some(array.elems.into_iter().collect()),
        _ => {
            cx.error(option.key.span(), usage);
            None
        }
    }
}

/// `params = ["dag_id", ..]`: distinct path parameter names.
fn read_params(cx: &mut Ctxt, option: RawOption) -> Vec<String> {
    let usage = "`params` takes the path parameters the guard reads: write `params = [\"dag_id\"]`";
    let mut params: Vec<String> = Vec::new();
    for elem in list(cx, option, usage).unwrap_or_default() {
        let Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) = elem
        else {
            cx.error_spanned(elem, usage);
            continue;
        };
        let param = lit.value();
        if !is_ident(&param) {
            cx.error(
                lit.span(),
                format!(
                    "`{param}` is not a path parameter name: write the name between `<` and `>` \
                     in the route's path, e.g. \"dag_id\""
                ),
            );
        } else if params.contains(&param) {
            cx.error(
                lit.span(),
                format!("`{param}` is listed twice in `params`: remove this one"),
            );
        } else {
            params.push(param);
        }
    }
    params
}

/// `statuses = [403, 404]`: 4xx statuses other than 401.
fn read_statuses(cx: &mut Ctxt, option: RawOption) -> Vec<u16> {
    let usage = "`statuses` takes the 4xx statuses the guard refuses with: write \
                 `statuses = [403, 404]`";
    let mut statuses = Vec::new();
    for elem in list(cx, option, usage).unwrap_or_default() {
        let Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) = elem
        else {
            cx.error_spanned(elem, usage);
            continue;
        };
        match lit.base10_parse::<u16>() {
            Ok(status) if (400..500).contains(&status) && status != 401 => {
                if !statuses.contains(&status) {
                    statuses.push(status);
                }
            }
            _ => cx.error(
                lit.span(),
                "a guard refuses an authenticated caller with a 4xx status other than 401 (it \
                 does not authenticate): write e.g. `statuses = [403, 404]`",
            ),
        }
    }
    statuses
}

/// Where to report an attribute on something that is not a guard.
pub(crate) const NOT_A_FUNCTION: &str = "`#[guard]` goes on an `async fn`: write \
     `#[scopegate::guard] async fn name(req: &HttpRequest, token: &scopegate::Token) -> \
     Result<(), scopegate::Deny>`";
