//! Groups across files (SPEC §2 "Groups across files").
//!
//! rustc refuses `mod x;` inside an attribute macro's input, so a group in
//! its own file cannot simply be nested in its parent. Instead:
//!
//! - a group marked `#[routes(.., included)]` expands, where it is written,
//!   to a hidden module of the same name holding one `macro_rules!` that
//!   replays the group's own tokens (attribute arguments and module), with
//!   their spans. It has no `configure`, `ROUTES` or service of its own, so
//!   it cannot be served without the groups around it;
//! - a group with `include = [a::a, b::b]` expands to a call of `a::a`'s
//!   replay macro, which calls `b::b`'s, each adding its tokens, the last
//!   calling [`tree`] (`scopegate::__private::routes_tree!`), which puts
//!   every included group back into the including module, as if written
//!   inline there, after its own items, and expands the whole tree as one
//!   inline group: the same checks, with the same messages, on the full
//!   paths, pointing into each group's own file;
//! - every other group carries a macro of the same name that answers an
//!   `include` of it with an error that says what to write.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parse_quote, Item, ItemMod, Path, Token};

use crate::model::{Ctxt, Enclosing};
use crate::parse::{GroupArgs, RawOption, RawValue};

/// The name of the macro, in a group's module, that an `include` calls.
pub(crate) const REPLAY: &str = "__scopegate_group";

/// `included` on a group written inline.
pub(crate) const INCLUDED_INLINE: &str = "`included` marks a group in a file of its own, which \
     the top-level group lists in `include = [..]`; this group is written inline inside another, \
     which already includes it: remove `included`";

/// `include` on a group that is not the top-level group.
pub(crate) const INCLUDE_NESTED: &str = "`include` goes on the top-level group, which assembles \
     every group in a file of its own: list these groups in its `include = [..]`, and write their \
     own prefixes and scopes on them";

/// What `#[routes(..)]` does with its module, from its arguments.
pub(crate) enum Mode {
    /// An ordinary group, expanded where it is.
    Plain,
    /// `included`: the replay macro.
    Included,
    /// `include = [..]` with at least one path: the chain of replays.
    Includes(Vec<Path>),
}

/// The mode `args` ask for; `Plain` when they do not parse (the ordinary
/// expansion reports why) or when their `include` is malformed (reported
/// the same way).
pub(crate) fn mode(args: &TokenStream) -> Mode {
    let Ok(parsed) = syn::parse2::<GroupArgs>(args.clone()) else {
        return Mode::Plain;
    };
    if parsed.options.iter().any(|o| o.key == "included") {
        return Mode::Included;
    }
    let Some(option) = parsed.options.iter().find(|o| o.key == "include") else {
        return Mode::Plain;
    };
    let RawValue::Expr(syn::Expr::Array(array)) = &option.value else {
        return Mode::Plain;
    };
    let mut paths: Vec<Path> = Vec::new();
    for elem in &array.elems {
        match elem {
            syn::Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => {
                let text = p.path.to_token_stream().to_string();
                if paths
                    .iter()
                    .any(|q| q.to_token_stream().to_string() == text)
                {
                    return Mode::Plain;
                }
                paths.push(p.path.clone());
            }
            _ => return Mode::Plain,
        }
    }
    if paths.is_empty() {
        Mode::Plain
    } else {
        Mode::Includes(paths)
    }
}

/// `tokens` with every `$` written `$__scopegate_dollar`: inside the
/// replay macro's body, a `$` of the group's own (a `macro_rules!` in the
/// group) would be read as the replay macro's; the replay macro receives a
/// `$` from its caller as `$__scopegate_dollar` and writes it back.
fn escape_dollars(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tt| -> Vec<TokenTree> {
            match tt {
                TokenTree::Punct(p) if p.as_char() == '$' => {
                    let name = Ident::new("__scopegate_dollar", p.span());
                    vec![TokenTree::Punct(p), TokenTree::Ident(name)]
                }
                TokenTree::Group(g) => {
                    let mut escaped = Group::new(g.delimiter(), escape_dollars(g.stream()));
                    escaped.set_span(g.span());
                    vec![TokenTree::Group(escaped)]
                }
                other => vec![other],
            }
        })
        .collect()
}

/// The expansion of `#[routes(args)] module` marked `included`: a hidden
/// module of the group's name holding the macro that replays it.
pub(crate) fn replay(args: TokenStream, module: &ItemMod) -> TokenStream {
    let name = &module.ident;
    let item = escape_dollars(module.to_token_stream());
    let args = escape_dollars(args);
    let replay = format_ident!("{}", REPLAY);
    let local = format_ident!("__scopegate_replay_{}", name);
    let doc = format!(
        "The group `{name}`, in its own file: `include = [.., {name}]` in the top-level \
         group assembles it there. It has no `configure` of its own."
    );
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_snake_case, unused_imports)]
        pub(crate) mod #name {
            #[doc(hidden)]
            macro_rules! #local {
                ($__scopegate_dollar:tt $($chain:tt)*) => {
                    ::scopegate::__private::routes_tree! { $($chain)* { (#args) #item } }
                };
            }
            #[doc(hidden)]
            pub(crate) use #local as #replay;
        }
    }
}

/// The expansion of a top-level `#[routes(args)] module` that includes
/// `paths`: the call of the first included group's replay macro, which
/// goes on with the others.
pub(crate) fn chain(args: TokenStream, module: &ItemMod, paths: &[Path]) -> TokenStream {
    let item = module.to_token_stream();
    let group = quote!({ (#args) #item });
    next(paths, &[group])
}

/// The call of the replay macro of `paths[0]`, with the rest of `paths`
/// and the groups collected so far (the including group first); or, with
/// no path left, the assembled tree.
fn next(paths: &[Path], groups: &[TokenStream]) -> TokenStream {
    let (first, rest) = paths.split_first().expect("a path");
    // Spanned on the path, so that rustc's own errors (a path that names
    // nothing, or a module that is not a group) point at it.
    let span = first
        .segments
        .last()
        .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span());
    let replay = Ident::new(REPLAY, span);
    // A `$` first: the replay macro writes it back where the group had one.
    quote! { #first::#replay! { $ [#(#rest),*] #(#groups)* } }
}

/// The input of `routes_tree!`: the included groups not replayed yet, then
/// the groups replayed so far, the including group first, each as
/// `{ (args) module }`.
struct TreeInput {
    paths: Vec<Path>,
    groups: Vec<(TokenStream, TokenStream)>,
}

impl Parse for TreeInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let list;
        syn::bracketed!(list in input);
        let paths = Punctuated::<Path, Token![,]>::parse_terminated(&list)?
            .into_iter()
            .collect();
        let mut groups = Vec::new();
        while !input.is_empty() {
            let group: Group = input.parse()?;
            if group.delimiter() != Delimiter::Brace {
                return Err(syn::Error::new(
                    group.span(),
                    "expected `{ (args) module }`",
                ));
            }
            let mut tokens = group.stream().into_iter();
            let args = match tokens.next() {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.stream(),
                _ => return Err(syn::Error::new(group.span(), "expected `(args)`")),
            };
            groups.push((args, tokens.collect()));
        }
        Ok(TreeInput { paths, groups })
    }
}

/// `routes_tree!`: the next replay, or, when every included group has
/// replayed its tokens, the including group with them put back inside it,
/// expanded as one inline tree.
pub(crate) fn tree(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<TreeInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    if !input.paths.is_empty() {
        let groups: Vec<TokenStream> = input
            .groups
            .iter()
            .map(|(args, item)| quote!({ (#args) #item }))
            .collect();
        return next(&input.paths, &groups);
    }
    let mut groups = input.groups.into_iter();
    let Some((args, item)) = groups.next() else {
        return TokenStream::new();
    };
    let mut module: ItemMod = match syn::parse2(item) {
        Ok(module) => module,
        Err(e) => return e.to_compile_error(),
    };
    let config = crate::config::for_crate();
    let mut cx = Ctxt::default();
    let enclosing = Enclosing::from_config(&mut cx, &config);
    let mut included = Vec::new();
    for (child_args, child) in groups {
        match syn::parse2::<ItemMod>(child) {
            Ok(mut child) => {
                let child_args = without(child_args, "included");
                child
                    .attrs
                    .insert(0, parse_quote!(#[::scopegate::routes(#child_args)]));
                included.push(child);
            }
            Err(e) => cx.push(e),
        }
    }
    if let Some((_, items)) = &mut module.content {
        for child in included {
            let clash = items
                .iter()
                .find_map(|item| crate::group::item_ident(item).filter(|i| **i == child.ident));
            if clash.is_some() {
                cx.error(
                    child.ident.span(),
                    format!(
                        "the included group `{}` has the name of another item of `mod {}`: \
                         rename one of the two",
                        child.ident, module.ident,
                    ),
                );
                continue;
            }
            items.push(Item::Mod(child));
        }
    }
    let args = without(args, "include");
    let group = crate::group::Group::top(&mut cx, syn::parse2(args), module, &enclosing);
    crate::finish(&config, crate::expand::group(&group), cx).into()
}

/// `args` without the option `key` (`included`, `include = [..]`).
fn without(args: TokenStream, key: &str) -> TokenStream {
    match syn::parse2::<GroupArgs>(args.clone()) {
        Ok(parsed) => {
            let kept = parsed
                .options
                .into_iter()
                .filter(|o| o.key != key)
                .map(|o| option_tokens(&o));
            quote!(#(#kept),*)
        }
        Err(_) => args,
    }
}

/// An option as written.
fn option_tokens(option: &RawOption) -> TokenStream {
    let key = &option.key;
    match &option.value {
        RawValue::None => quote!(#key),
        RawValue::Expr(e) => quote!(#key = #e),
        RawValue::Type(t) => quote!(#key = #t),
        RawValue::List(g) => quote!(#key #g),
    }
}

/// What a group that is not `included` answers an `include` of it with:
/// an error that says what to write. Goes inside the group's module, as
/// the macro an `include` calls.
pub(crate) fn refusal(name: &syn::Ident) -> TokenStream {
    let replay = format_ident!("{}", REPLAY);
    let local = format_ident!("__scopegate_not_included_{}", name);
    let message = format!(
        "`{name}` is not a group in a file of its own: it has its own `configure`, which would \
         serve its routes without the prefix and scopes of the group that includes it. To \
         include it, mark it `#[routes(.., included)]` (it then has no `configure`); or nest \
         it inline"
    );
    quote! {
        #[doc(hidden)]
        macro_rules! #local {
            ($($chain:tt)*) => { ::core::compile_error! { #message } };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #local as #replay;
    }
}
