//! The checked model -> tokens. Nothing here decides anything: a route
//! without a checked form becomes a stub that keeps the user's code
//! compiling around the reported errors.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, Item, LitStr, Type};

use crate::actix::ActixRoute;

use crate::doc::is_standard;
use crate::group::{
    item_ident, Fallback, Group, GroupItem, ADD_OPENAPI, REGISTER_ROUTES, ROUTES_AND_MARKERS, TABLE,
};
use crate::guard::Guard;
use crate::model::{Atom, Check, Checked, Form, GuardRef, Policy, Route};
use crate::vocab::{Compare, Subject, Vocabulary};

/// `::scopegate::RoutePolicy` expression for a checked route's policy,
/// usable in `const`: its vocabulary, its token types as bits of the
/// vocabulary's type indexes, and its owners; with permissions or
/// `any(..)`, every requirement in order; with guards, their names. The
/// expression names nothing of the route's module, so a group's `ROUTES`
/// writes it again wherever the group is.
fn policy(checked: &Checked) -> TokenStream {
    let vocab = &checked.vocab;
    match &checked.policy {
        Policy::Public => quote!(::scopegate::RoutePolicy::PUBLIC),
        Policy::Protected {
            token_types,
            owners,
            checks,
            guards,
        } => {
            let vocabulary = vocabulary(vocab);
            let bits = token_types.iter().fold(0u64, |bits, t| bits | 1 << t);
            let bits = Literal::u64_unsuffixed(bits);
            let owner_list = owners.iter().map(|o| owner(vocab, *o));
            let requirements = checked.policy.has_requirements().then(|| {
                let items = checks.iter().map(|check| match check {
                    Check::Owner(o) => {
                        let owner = owner(vocab, *o);
                        quote!(::scopegate::Requirement::Owner(#owner))
                    }
                    Check::Permission(p) => {
                        let permission = permission(vocab, &vocabulary, *p);
                        quote!(::scopegate::Requirement::Permission(#permission))
                    }
                    Check::Any(alternatives) => {
                        let alternatives = alternatives.iter().map(|atoms| {
                            let conditions = atoms.iter().map(|atom| match atom {
                                Atom::Owner(o) => {
                                    let owner = owner(vocab, *o);
                                    quote!(::scopegate::Condition::Owner(#owner))
                                }
                                Atom::Permission(p) => {
                                    let permission = permission(vocab, &vocabulary, *p);
                                    quote!(::scopegate::Condition::Permission(#permission))
                                }
                                Atom::Type(t) => {
                                    let bit = Literal::u64_unsuffixed(1 << t);
                                    quote!(::scopegate::Condition::TokenType(
                                        ::scopegate::TokenTypes::from_bits(&#vocabulary, #bit)
                                    ))
                                }
                            });
                            quote!(::scopegate::Alternative::all(&[#(#conditions),*]))
                        });
                        quote!(::scopegate::Requirement::Any(
                            ::scopegate::AnyOf::new(&[#(#alternatives),*])
                        ))
                    }
                });
                quote!(.with_requirements(&[#(#items),*]))
            });
            let guards = (!guards.is_empty()).then(|| {
                let names = guards.iter().map(GuardRef::name);
                quote!(.with_guards(&[#(#names),*]))
            });
            quote! {
                ::scopegate::RoutePolicy::protected(
                    ::scopegate::TokenTypes::from_bits(&#vocabulary, #bits),
                    &[#(#owner_list),*],
                )
                #requirements
                #guards
            }
        }
    }
}

/// `::scopegate::Owner` expression for the owner at `index`.
fn owner(vocab: &Vocabulary, index: usize) -> TokenStream {
    let owner = &vocab.owners[index];
    let (scope, param, label) = (&owner.scope, &owner.param, &owner.label);
    let claim = &owner.claim;
    let claim = (claim != "sub").then(|| quote!(.with_claim(#claim)));
    let compare = (owner.compare != Compare::Uuid).then(|| {
        let variant = format_ident!("{}", owner.compare.variant());
        quote!(.with_compare(::scopegate::Compare::#variant))
    });
    quote!(::scopegate::Owner::new(#scope, #param, #label) #claim #compare)
}

/// `::scopegate::Permission` expression for the permission at `index`,
/// looked up (at compile time) in the vocabulary expression `vocabulary`.
fn permission(vocab: &Vocabulary, vocabulary: &TokenStream, index: usize) -> TokenStream {
    let name = vocab
        .permissions
        .as_ref()
        .map(|p| p.names[index].as_str())
        .unwrap_or_default();
    quote!((#vocabulary).permission(#name))
}

/// A protected route's `GUARDS`, when it has guards: each guard with the
/// route's path parameters, which `GuardEntry::new` checks in `const`
/// against the parameters the guard reads (spanned on the guard's path,
/// where the error is reported); and a free `const` that makes the
/// compiler evaluate them in every build, `cargo check` included.
fn guards(route: &Route, checked: &Checked) -> (TokenStream, TokenStream) {
    let Policy::Protected { guards, .. } = &checked.policy else {
        return (TokenStream::new(), TokenStream::new());
    };
    if guards.is_empty() {
        return (TokenStream::new(), TokenStream::new());
    }
    let params: Vec<&str> = checked.path.params().collect();
    let entries = guards.iter().map(|guard| {
        let path = &guard.path;
        quote_spanned!(path.span()=> ::scopegate::GuardEntry::new(&#path, &[#(#params),*]))
    });
    let name = route.name();
    let conditions = &route.conditions;
    let count = guards.len();
    let infos = (0..count).map(|i| quote!(guards[#i].info()));
    (
        quote! {
            /// The guards this route runs after its policy allowed a
            /// request, in order: its groups', then its own.
            pub const GUARDS: &'static [::scopegate::GuardEntry] = &[#(#entries),*];
            /// The guards' names and statuses, for the OpenAPI document.
            #[doc(hidden)]
            pub const GUARD_INFO: [::scopegate::GuardInfo; #count] = {
                let guards = Self::GUARDS;
                [#(#infos),*]
            };
        },
        quote! {
            #conditions
            const _: &[::scopegate::GuardEntry] = #name::GUARDS;
        },
    )
}

/// `::scopegate::Vocabulary` expression for `vocab`, usable in `const`:
/// Airflow's by name, any other spelled out.
pub(crate) fn vocabulary(vocab: &Vocabulary) -> TokenStream {
    if vocab.is_airflow() {
        return quote!(::scopegate::Vocabulary::AIRFLOW);
    }
    let permissions = vocab.permissions.as_ref().map(|p| {
        let claim = &p.claim;
        let format = format_ident!("{}", p.format.variant());
        let names = &p.names;
        quote! {
            ::scopegate::Permissions::new(
                #claim,
                ::scopegate::PermissionFormat::#format,
                &[#(#names),*],
            )
        }
    });
    let subject = (vocab.subject != Subject::Uuid).then(|| {
        let variant = format_ident!("{}", vocab.subject.variant());
        quote!(.with_subject(::scopegate::SubjectFormat::#variant))
    });
    if !vocab.typed() {
        return quote!(::scopegate::Vocabulary::untyped(#permissions) #subject);
    }
    let claim = &vocab.claim;
    let types = &vocab.types;
    let default = vocab.default;
    let permissions = permissions.map(|p| quote!(.with_permissions(#p)));
    quote!(::scopegate::Vocabulary::new(#claim, &[#(#types),*], #default) #permissions #subject)
}

/// `::scopegate::RouteInfo` literal for a checked route.
fn info(checked: &Checked) -> TokenStream {
    let method = checked.method.upper();
    let path = checked.path.canonical();
    let policy = policy(checked);
    quote! {
        ::scopegate::RouteInfo { method: #method, path: #path, policy: #policy }
    }
}

/// A `#[route]` or `#[protect]` handler.
pub(crate) fn route(route: &Route) -> TokenStream {
    let Some(checked) = &route.checked else {
        return stub(route);
    };
    match &route.form {
        Form::Route => scopegate_route(route, checked),
        Form::Protect(Some(actix)) => protected(route, checked, actix),
        Form::Protect(None) => stub(route),
    }
}

/// A `#[route]` handler: a unit struct named after it that registers the
/// handler (wrapped in `Enforce` unless public) as an actix service.
fn scopegate_route(route: &Route, checked: &Checked) -> TokenStream {
    let func = &route.func;
    let name = route.name();
    let vis = &func.vis;
    let docs = route.docs();
    let policy_expr = policy(checked);
    let info = info(checked);
    let actix_path = LitStr::new(&checked.path.actix(), checked.path_span);
    let resource_name = name.to_string();
    let guard = format_ident!("{}", checked.method.guard());
    let (guards_const, guards_check) = guards(route, checked);
    let with_guards = (!guards_const.is_empty()).then(|| quote!(.with_guards(Self::GUARDS)));
    let guards_slice = if guards_const.is_empty() {
        quote!(&[])
    } else {
        quote!(Self::GUARDS)
    };
    let enforce = match checked.policy {
        Policy::Public => quote!(),
        Policy::Protected { .. } => {
            quote!(.wrap(::scopegate::Enforce::new(&Self::POLICY) #with_guards))
        }
    };
    let config = format_ident!("config", span = Span::mixed_site());
    let resource = format_ident!("resource", span = Span::mixed_site());
    let conditions = &route.conditions;
    let openapi = openapi_route(route, checked);
    quote! {
        #(#docs)*
        #conditions
        #[allow(non_camel_case_types)]
        #vis struct #name;

        #conditions
        impl #name {
            /// The access policy this route's `#[route]` declares, merged
            /// with its enclosing groups.
            pub const POLICY: ::scopegate::RoutePolicy = #policy_expr;
            /// The route as declared: method, full path and policy.
            pub const INFO: ::scopegate::RouteInfo = #info;
            #guards_const

            /// The handler's service (no method guard, no policy).
            #[doc(hidden)]
            pub fn __scopegate_handler() -> impl ::scopegate::__private::HandlerFactory {
                #func
                ::scopegate::__private::handler(#name)
            }

            /// The handler inside its policy and guards: what a group's
            /// dispatcher calls.
            #[doc(hidden)]
            pub fn __scopegate_service() -> ::scopegate::__private::RouteFactory {
                ::scopegate::__private::route_service(
                    Self::__scopegate_handler(),
                    &Self::POLICY,
                    #guards_slice,
                )
            }
        }
        #guards_check

        #conditions
        impl ::scopegate::__private::actix_web::dev::HttpServiceFactory for #name {
            fn register(self, #config: &mut ::scopegate::__private::actix_web::dev::AppService) {
                let #resource = ::scopegate::__private::actix_web::Resource::new(#actix_path)
                    .name(#resource_name)
                    .guard(::scopegate::__private::actix_web::guard::#guard())
                    #enforce
                    .route(
                        ::scopegate::__private::actix_web::Route::new()
                            .service(Self::__scopegate_handler()),
                    );
                ::scopegate::__private::actix_web::dev::HttpServiceFactory::register(#resource, #config);
            }
        }

        #openapi
    }
}

/// A `#[protect]` handler: the handler with its actix-web route attribute
/// rewritten (full path, `Enforce` as its outermost `wrap`), so actix's
/// macro makes the service; and the policy and route information on the
/// struct it makes, where the `wrap` finds them as `Self::POLICY`.
fn protected(route: &Route, checked: &Checked, actix: &ActixRoute) -> TokenStream {
    let mut func = route.func.clone();
    let (guards_const, guards_check) = guards(route, checked);
    func.attrs[actix.index] = actix.rewritten(&checked.path.actix(), !guards_const.is_empty());
    let name = route.name();
    let policy_expr = policy(checked);
    let info = info(checked);
    let conditions = &route.conditions;
    let openapi = openapi_route(route, checked);
    quote! {
        #func
        #openapi

        #conditions
        impl #name {
            /// The access policy this route's `#[protect]` declares, merged
            /// with its enclosing groups.
            pub const POLICY: ::scopegate::RoutePolicy = #policy_expr;
            /// The route as declared: method, full path and policy.
            pub const INFO: ::scopegate::RouteInfo = #info;
            #guards_const
        }
        #guards_check
    }
}

/// With the `openapi` feature, what a checked route documents: a hidden
/// function of its struct that returns its `scopegate::openapi::RouteDoc`,
/// and utoipa's `Path` built from it.
/// Without the feature, the body types are only named, so that a route
/// compiles the same either way: a misspelt type is an error, and an
/// import used only by `request = T` or `responses(..)` is not unused.
fn openapi_route(route: &Route, checked: &Checked) -> TokenStream {
    if !cfg!(feature = "openapi") {
        let doc = &checked.doc;
        let types = doc
            .request
            .iter()
            .chain(doc.responses.iter().filter_map(|(_, ty)| ty.as_ref()));
        let conditions = &route.conditions;
        return quote! {
            #conditions
            const _: () = { #(let _ = ::core::marker::PhantomData::<#types>;)* };
        };
    }
    let name = route.name();
    let conditions = &route.conditions;
    let doc = &checked.doc;
    let path = checked.path.openapi();
    let operation_id = &doc.operation_id;
    let some = |text: &Option<String>| match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    let (tag, summary, description) = (some(&doc.tag), some(&doc.summary), some(&doc.description));
    let params = doc.params.iter().map(|(param, kind)| {
        let kind = format_ident!("{}", kind.variant());
        quote!((#param, ::scopegate::__private::openapi::ParamType::#kind))
    });
    let body = |ty: &Option<Type>| match ty {
        Some(ty) => {
            let ctor = format_ident!("{}", if is_standard(ty) { "inline" } else { "named" });
            // Spanned on the type, so that a type without a schema is
            // reported where the user wrote it.
            quote_spanned!(ty.span()=>
                ::core::option::Option::Some(::scopegate::__private::openapi::Body::#ctor::<#ty>()))
        }
        None => quote!(::core::option::Option::None),
    };
    let request = body(&doc.request);
    let responses = doc.responses.iter().map(|(status, ty)| {
        let status = Literal::u16_unsuffixed(*status);
        let body = body(ty);
        quote!((#status, #body))
    });
    let openapi = quote!(::scopegate::__private::openapi);
    let utoipa = quote!(::scopegate::__private::utoipa);
    let guarded = matches!(&checked.policy, Policy::Protected { guards, .. } if !guards.is_empty());
    let guard_info = if guarded {
        quote!(&Self::GUARD_INFO)
    } else {
        quote!(&[])
    };
    quote! {
        #conditions
        impl #name {
            /// What this route documents in OpenAPI.
            #[doc(hidden)]
            pub fn __scopegate_openapi() -> #openapi::RouteDoc {
                #openapi::RouteDoc {
                    info: Self::INFO,
                    path: #path,
                    operation_id: #operation_id,
                    tag: #tag,
                    summary: #summary,
                    description: #description,
                    params: &[#(#params),*],
                    request: #request,
                    responses: ::std::vec![#(#responses),*],
                    guards: #guard_info,
                }
            }
        }

        #conditions
        impl #utoipa::Path for #name {
            fn methods() -> ::std::vec::Vec<#utoipa::openapi::path::HttpMethod> {
                ::std::vec![Self::__scopegate_openapi().method()]
            }

            fn path() -> ::std::string::String {
                ::std::string::String::from(#path)
            }

            fn operation() -> #utoipa::openapi::path::Operation {
                Self::__scopegate_openapi().operation()
            }
        }
    }
}

/// With the `openapi` feature, a group's `openapi()` and the hidden
/// function that adds its routes and its nested groups' to a document;
/// `adds` are the calls that do, one per route or nested group, under its
/// `#[cfg]`s.
/// `openapi()` is left out when the user has an item of that name, so
/// that only `#[routes]`' "rename this item" is reported, not rustc's
/// duplicate definition as well.
fn openapi_group(doc: &Ident, adds: &[TokenStream], openapi_taken: bool) -> TokenStream {
    if !cfg!(feature = "openapi") {
        return TokenStream::new();
    }
    let add = format_ident!("{}", ADD_OPENAPI);
    let body = if adds.is_empty() {
        quote!(let _ = #doc;)
    } else {
        quote!(#(#adds)*)
    };
    let openapi = (!openapi_taken).then(|| {
        quote! {
            /// The OpenAPI 3.1 document of every route of this group and of the
            /// groups nested in it: paths, operations with their security, the
            /// `JWTBearer` scheme and the schemas of their bodies. Its title and
            /// version are the crate's package name and version.
            pub fn openapi() -> ::scopegate::__private::utoipa::openapi::OpenApi {
                let mut #doc = ::scopegate::__private::openapi::Document::new(
                    ::core::env!("CARGO_PKG_NAME"),
                    ::core::env!("CARGO_PKG_VERSION"),
                );
                #add(&mut #doc);
                #doc.finish()
            }
        }
    });
    quote! {
        #openapi

        /// Adds the routes of this group and of its nested groups to an
        /// OpenAPI document.
        #[doc(hidden)]
        pub(super) fn #add(#doc: &mut ::scopegate::__private::openapi::Document) {
            #body
        }
    }
}

/// What a route with errors expands to: the user's function (out of the
/// way of the struct's name, so the IDE still analyses it, and with its
/// actix-web route attribute, if any, so that its import stays used) and a
/// struct that still implements `HttpServiceFactory`, so `.service(name)`
/// raises no follow-on error.
fn stub(route: &Route) -> TokenStream {
    let func = &route.func;
    let name = route.name();
    let vis = &func.vis;
    let docs = route.docs();
    let conditions = &route.conditions;
    quote! {
        #(#docs)*
        #conditions
        #[allow(non_camel_case_types)]
        #vis struct #name;

        #conditions
        impl #name {
            /// Placeholder: this route has errors.
            pub const POLICY: ::scopegate::RoutePolicy =
                ::scopegate::RoutePolicy::protected(::scopegate::TokenTypes::EMPTY, &[]);
            /// Placeholder: this route has errors.
            pub const INFO: ::scopegate::RouteInfo =
                ::scopegate::RouteInfo { method: "", path: "", policy: Self::POLICY };
        }

        #conditions
        impl ::scopegate::__private::actix_web::dev::HttpServiceFactory for #name {
            fn register(self, _: &mut ::scopegate::__private::actix_web::dev::AppService) {}
        }

        const _: () = {
            #[allow(dead_code)]
            #func
        };
    }
}

/// A `#[routes]` module: its items with every route and nested group
/// expanded, plus `configure`, `ROUTES`, and the hidden functions that list
/// the routes for the dispatcher and register them one by one (SPEC §14).
pub(crate) fn group(group: &Group) -> TokenStream {
    let cfg = format_ident!("cfg", span = Span::mixed_site());
    let config = format_ident!("config", span = Span::mixed_site());
    let out = format_ident!("out", span = Span::mixed_site());
    let doc = format_ident!("doc", span = Span::mixed_site());
    let register = format_ident!("{}", REGISTER_ROUTES);
    let table = format_ident!("{}", TABLE);
    let routes_and_markers = format_ident!("{}", ROUTES_AND_MARKERS);
    let add = format_ident!("{}", ADD_OPENAPI);
    let private = quote!(::scopegate::__private);
    let mut items: Vec<Item> = Vec::new();
    let mut services = Vec::new();
    let mut entries = Vec::new();
    let mut adds = Vec::new();
    for item in &group.items {
        match item {
            GroupItem::Plain(item) => items.push(item.clone()),
            GroupItem::Route(r) => {
                items.push(Item::Verbatim(route(r)));
                let name = r.name();
                let conditions = &r.conditions;
                services.push(quote! {
                    #conditions
                    #private::actix_web::dev::HttpServiceFactory::register(#name, #config);
                });
                if let Some(checked) = &r.checked {
                    adds.push(quote!(#conditions #doc.add(#name::__scopegate_openapi());));
                    let method = checked.method.upper();
                    let pattern = checked.path.actix();
                    let (service, exact) = match &r.form {
                        Form::Route => (
                            quote!(::core::option::Option::Some(#name::__scopegate_service)),
                            true,
                        ),
                        Form::Protect(actix) => (
                            quote!(::core::option::Option::None),
                            actix.as_ref().is_none_or(|a| !a.has_guards()),
                        ),
                    };
                    entries.push(quote! {
                        #conditions
                        #out.push(#private::Entry {
                            method: #method,
                            pattern: #pattern,
                            service: #service,
                            exact: #exact,
                        });
                    });
                }
            }
            GroupItem::Group(g) => {
                items.push(Item::Verbatim(self::group(g)));
                let name = &g.module.ident;
                let conditions = &g.conditions;
                services.push(quote!(#conditions #name::#register(#config);));
                entries.push(quote!(#conditions #name::#table(#out);));
                adds.push(quote!(#conditions #name::#add(#doc);));
            }
        }
    }
    if group.has_errors {
        adds.clear();
        services.clear();
        entries.clear();
    }
    // A user item named like a generated function is an error reported by
    // `group::group_item`; the generated one is then left out so that rustc
    // does not report the clash a second time.
    let taken = |name: &str| {
        group.items.iter().any(|item| match item {
            GroupItem::Plain(item) => item_ident(item).is_some_and(|i| i == name),
            GroupItem::Route(r) => r.name() == name,
            GroupItem::Group(g) => g.module.ident == name,
        })
    };
    items.push(Item::Verbatim(openapi_group(&doc, &adds, taken("openapi"))));
    let (markers, infos) = if group.has_errors {
        (Vec::new(), Vec::new())
    } else {
        let infos = group
            .routes()
            .into_iter()
            .filter_map(|r| {
                let conditions = &r.conditions;
                let info = info(r.checked.as_ref()?);
                Some(quote!(#conditions #info))
            })
            .collect();
        let markers = group
            .fallbacks()
            .iter()
            .map(|f| marker(&config, f))
            .collect();
        (markers, infos)
    };
    let body = |lines: &[TokenStream], arg: &Ident| {
        if lines.is_empty() {
            quote!(let _ = #arg;)
        } else {
            quote!(#(#lines)*)
        }
    };
    let services = body(&services, &config);
    let entries = body(&entries, &out);
    let configure = (!taken("configure")).then(|| {
        quote! {
            /// Registers every route of this group, and of the groups nested in
            /// it, with its full path and policy, so that a request finds its
            /// route in one step whichever it is; and makes the app's default
            /// service answer a path of the group requested with another
            /// method with `405 Method Not Allowed` and an `Allow` header
            /// ([`scopegate::Fallback`]).
            pub fn configure(#cfg: &mut #private::actix_web::web::ServiceConfig) {
                #cfg.service(#private::Group::new(#table, #routes_and_markers));
                #cfg.default_service(::scopegate::Fallback::new());
            }
        }
    });
    items.push(Item::Verbatim(quote! {
        #configure

        /// Registers the routes of this group and of its nested groups one by
        /// one, then a 405 marker for each of their paths.
        #[doc(hidden)]
        fn #routes_and_markers(#config: &mut #private::actix_web::dev::AppService) {
            #register(#config);
            #(#markers)*
        }

        /// Registers the routes of this group and of its nested groups one by
        /// one, in declaration order, without the 405 markers: an outer
        /// group adds those for all its paths at once.
        #[doc(hidden)]
        pub(super) fn #register(#config: &mut #private::actix_web::dev::AppService) {
            #services
        }

        /// Lists the routes of this group and of its nested groups, in
        /// declaration order, for the group's dispatcher.
        #[doc(hidden)]
        pub(super) fn #table(#out: &mut ::std::vec::Vec<#private::Entry>) {
            #entries
        }

        /// Every route of this group and of the groups nested in it, in
        /// declaration order, for audits, docs and OpenAPI.
        pub const ROUTES: &[::scopegate::RouteInfo] = &[#(#infos),*];
    }));
    if !taken(crate::include::REPLAY) {
        items.push(Item::Verbatim(crate::include::refusal(&group.module.ident)));
    }
    items.extend(group.cfg_duplicates.iter().map(|d| {
        let (conditions, message) = (&d.conditions, &d.message);
        Item::Verbatim(quote_spanned!(d.span=> #conditions ::core::compile_error!(#message);))
    }));
    let mut module = group.module.clone();
    // `mod name;` was refused; an inline stub keeps `name::configure` valid.
    module.semi = None;
    module.content = Some((syn::token::Brace::default(), items));
    quote!(#module)
}

/// Registers the 405 marker of one path shape: `Allow` lists the method
/// of every route that covers it.
fn marker(config: &Ident, fallback: &Fallback<'_>) -> TokenStream {
    let pattern = LitStr::new(&fallback.pattern, fallback.span);
    let methods = fallback.routes.iter().map(|(route, method)| {
        let (conditions, method) = (&route.conditions, method.upper());
        quote!(#conditions #method)
    });
    quote! {
        ::scopegate::__private::register_marker(#config, #pattern, &[#(#methods),*]);
    }
}

/// A `#[guard]` function: a unit struct named after it that implements
/// `scopegate::Guard` (the function, moved inside, called with the request
/// and the token) and `scopegate::GuardDecl` (its name, statuses, the path
/// parameters it reads and the message of a route that lacks one).
pub(crate) fn guard(guard: &Guard) -> TokenStream {
    let func = &guard.func;
    let name = &func.sig.ident;
    let vis = &func.vis;
    let docs = func.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let text = name.to_string();
    let text = text.trim_start_matches("r#");
    let statuses = guard.statuses.iter().map(|s| Literal::u16_unsuffixed(*s));
    let params = &guard.params;
    let missing = guard.params.iter().map(|p| guard.missing_message(p));
    let req = format_ident!("req", span = Span::mixed_site());
    let token = format_ident!("token", span = Span::mixed_site());
    // Each argument located at the parameter it is passed to, so that a
    // parameter of another type is reported there.
    let at = |i: usize| {
        func.sig
            .inputs
            .iter()
            .nth(i)
            .map_or(Span::mixed_site(), |p| {
                Span::mixed_site().located_at(p.span())
            })
    };
    let (req_arg, token_arg) = (
        format_ident!("req", span = at(0)),
        format_ident!("token", span = at(1)),
    );
    let call = quote_spanned!(func.sig.inputs.span()=> #name(#req_arg, #token_arg));
    // Spanned at the return type, so that one that is not a guard's is
    // reported there.
    let output = match &func.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => func.sig.ident.span(),
    };
    let future = quote_spanned!(output=> async move {
        let (#req, #token) = (&#req, &#token);
        #call.await
    });
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #vis struct #name;

        impl ::scopegate::Guard for #name {
            fn check(
                &self,
                #req: &::scopegate::__private::actix_web::HttpRequest,
                #token: &::scopegate::Token,
            ) -> ::scopegate::GuardFuture<'static> {
                #func
                // The future owns what it reads (two reference counts), so
                // that enforcement may keep a guard that has to wait.
                let (#req, #token) = (
                    ::core::clone::Clone::clone(#req),
                    ::core::clone::Clone::clone(#token),
                );
                ::scopegate::__private::guard_future(#future)
            }
        }

        impl ::scopegate::GuardDecl for #name {
            const INFO: ::scopegate::GuardInfo =
                ::scopegate::GuardInfo::new(#text, &[#(#statuses),*]);
            const PARAMS: &'static [&'static str] = &[#(#params),*];
            const MISSING: &'static [&'static str] = &[#(#missing),*];
        }
    }
}

/// What a `#[guard]` with errors expands to: the function, out of the way,
/// and a struct of its name that is a guard that refuses everything, so
/// that routes naming it raise no follow-on error (the build fails on the
/// reported errors anyway).
pub(crate) fn guard_stub(func: &syn::ItemFn) -> TokenStream {
    let name = &func.sig.ident;
    let vis = &func.vis;
    let text = name.to_string();
    quote! {
        #[allow(non_camel_case_types)]
        #vis struct #name;

        impl ::scopegate::Guard for #name {
            fn check(
                &self,
                _: &::scopegate::__private::actix_web::HttpRequest,
                _: &::scopegate::Token,
            ) -> ::scopegate::GuardFuture<'static> {
                ::std::boxed::Box::pin(async { ::core::result::Result::Err(::scopegate::Deny::forbidden("guard with errors")) })
            }
        }

        impl ::scopegate::GuardDecl for #name {
            const INFO: ::scopegate::GuardInfo = ::scopegate::GuardInfo::new(#text, &[403]);
            const PARAMS: &'static [&'static str] = &[];
            const MISSING: &'static [&'static str] = &[];
        }

        const _: () = {
            #[allow(dead_code)]
            #func
        };
    }
}
