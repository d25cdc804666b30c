//! The rules of routes and groups, through the model (`model`, `group`):
//! which declarations are accepted, with which policy, and the exact
//! message of each mistake.

use syn::{parse_quote, Item, ItemFn, ItemMod};

use crate::attrs::{self, Kind};
use crate::cfg::Conditions;
use crate::group::{Group, GroupItem};
use crate::model::{Checked, Ctxt, Enclosing, Method, Policy, Route};
use crate::parse::GroupArgs;

fn errors(cx: Ctxt) -> Vec<String> {
    cx.finish()
        .map(|e| e.into_iter().map(|e| e.to_string()).collect())
        .unwrap_or_default()
}

fn route_in(args: &str, func: ItemFn, enclosing: &Enclosing) -> (Option<Checked>, Vec<String>) {
    let mut cx = Ctxt::default();
    let route = Route::new(&mut cx, syn::parse_str(args), func, enclosing);
    (route.checked, errors(cx))
}

fn route(args: &str) -> (Option<Checked>, Vec<String>) {
    route_in(
        args,
        parse_quote!(
            async fn h() {}
        ),
        &Enclosing::default(),
    )
}

fn group(module: ItemMod) -> (Group, Vec<String>) {
    let mut cx = Ctxt::default();
    let args = module
        .attrs
        .iter()
        .find(|a| attrs::kind(a) == Kind::Routes)
        .map(|a| a.parse_args::<GroupArgs>())
        .unwrap_or(Ok(GroupArgs {
            options: Vec::new(),
        }));
    let mut module = module;
    module.attrs.retain(|a| attrs::kind(a) != Kind::Routes);
    let g = Group::top(&mut cx, args, module, &Enclosing::default());
    (g, errors(cx))
}

fn policy(c: &Checked) -> (Vec<usize>, Vec<&str>) {
    match &c.policy {
        Policy::Public => panic!("public"),
        Policy::Protected {
            token_types,
            owners,
            ..
        } => (
            token_types.iter().copied().collect(),
            owners
                .iter()
                .map(|o| c.vocab.owners[*o].scope.as_str())
                .collect(),
        ),
    }
}

fn listing(g: &Group) -> Vec<(String, String, Vec<usize>, Vec<&str>)> {
    g.routes()
        .into_iter()
        .map(|r| {
            let c = r.checked.as_ref().expect("checked");
            let (t, s) = policy(c);
            (c.method.upper(), c.path.canonical(), t, s)
        })
        .collect()
}

/// Airflow's token types, by index in its vocabulary.
const E: usize = 0;
const W: usize = 1;

#[test]
fn token_types_default_to_execution_only() {
    let (c, errs) = route(r#"get, "/variables/<variable_key>""#);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(policy(&c.unwrap()), (vec![E], vec![]));
    let (c, _) = route(r#"get, "/x", scopes = ["token:workload"]"#);
    assert_eq!(
        policy(&c.unwrap()),
        (vec![W], vec![]),
        "workload alone is workload only"
    );
    let (c, _) = route(r#"get, "/x", scopes = []"#);
    assert_eq!(policy(&c.unwrap()), (vec![E], vec![]));
}

#[test]
fn public_routes() {
    let (c, errs) = route(r#"get, "/health", public"#);
    assert!(errs.is_empty());
    let c = c.unwrap();
    assert_eq!(c.policy, Policy::Public);
    assert_eq!(c.method, Method::Get);
    let (c, errs) = route(r#"get, "/health", public, scopes = []"#);
    assert!(c.is_none());
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("a `public` route takes no token"),
        "{errs:?}"
    );
    let (_, errs) = route_in(
        r#"get, "/health", public"#,
        parse_quote!(
            async fn h(t: Option<scopegate::TiToken>) {}
        ),
        &Enclosing::default(),
    );
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("cannot take a `TiToken`"), "{errs:?}");
}

#[test]
fn group_scopes_merge_into_routes() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/task-instances", scopes = ["ti:self"])]
        mod task_instances {
            #[route(patch, "/<task_instance_id>/run", scopes = ["token:execution", "token:workload"])]
            async fn run() {}
            #[route(put, "/{task_instance_id}/heartbeat")]
            async fn heartbeat() {}
            #[route(get, "/<task_instance_id>/w", scopes = ["token:workload"])]
            async fn w() {}
            fn helper() {}
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    assert!(!g.has_errors);
    assert_eq!(
        listing(&g),
        [
            (
                "PATCH".into(),
                "/task-instances/<task_instance_id>/run".into(),
                vec![E, W],
                vec!["ti:self"]
            ),
            (
                "PUT".into(),
                "/task-instances/<task_instance_id>/heartbeat".into(),
                vec![E],
                vec!["ti:self"]
            ),
            (
                "GET".into(),
                "/task-instances/<task_instance_id>/w".into(),
                vec![W],
                vec!["ti:self"]
            ),
        ]
    );
    assert!(matches!(
        g.items.last(),
        Some(GroupItem::Plain(Item::Fn(_)))
    ));
}

#[test]
fn nested_groups_combine_outward_in() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/execution")]
        mod api {
            #[route(get, "/health", public)]
            async fn health() {}
            #[routes(prefix = "/connection-tests/<connection_test_id>", scopes = ["ct:self", "token:workload"])]
            mod ct {
                #[route(get, "/connection", scopes = ["token:execution"])]
                async fn connection() {}
                #[routes(scopes = ["ti:self"])]
                mod deeper {
                    #[route(get, "/ti/<task_instance_id>", scopes = ["ct:self"])]
                    async fn both() {}
                }
            }
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    let routes = g.routes();
    assert_eq!(routes.len(), 3);
    assert_eq!(routes[0].checked.as_ref().unwrap().policy, Policy::Public);
    let c = routes[1].checked.as_ref().unwrap();
    assert_eq!(
        c.path.canonical(),
        "/execution/connection-tests/<connection_test_id>/connection"
    );
    assert_eq!(policy(c), (vec![E, W], vec!["ct:self"]));
    let c = routes[2].checked.as_ref().unwrap();
    assert_eq!(
        c.path.canonical(),
        "/execution/connection-tests/<connection_test_id>/ti/<task_instance_id>"
    );
    assert_eq!(
        policy(c),
        (vec![W], vec!["ct:self", "ti:self"]),
        "self-scopes accumulate once each"
    );
}

#[test]
fn missing_self_scope_param_names_it() {
    let (c, errs) = route(r#"put, "/heartbeat", scopes = ["ti:self"]"#);
    assert!(c.is_none());
    assert_eq!(
        errs,
        [
            "`ti:self` needs the path parameter `task_instance_id`, but \"/heartbeat\" has none: \
          add `<task_instance_id>` to the path, or remove `ti:self`"
        ]
    );
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/task-instances", scopes = ["ti:self"])]
        mod task_instances {
            #[route(put, "/heartbeat")]
            async fn heartbeat() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`ti:self` (from `#[routes]` on `mod task_instances`) needs the path parameter \
          `task_instance_id`, but \"/task-instances/heartbeat\" has none: \
          add `<task_instance_id>` to this path"
        ]
    );
}

#[test]
fn every_error_is_reported() {
    let (c, errs) = route(
        r#"fetch, "task", scopes = ["token:workloads", "ti:selff", "token:", "ti:self", "ti:self"], pubic"#,
    );
    assert!(c.is_none());
    assert_eq!(
        errs,
        [
            "unknown HTTP method `fetch`: write one of `get`, `post`, `put`, `patch`, `delete`, `head`, `options`, `trace`",
            "path must start with `/`: write \"/task\"",
            "unknown option `pubic`: did you mean `public`?",
            "unknown scope `token:workloads`: did you mean `token:workload`?",
            "unknown scope `ti:selff`: did you mean `ti:self`?",
            "unknown scope `token:`: did you mean `token:execution` or `token:workload`?",
            "scope `ti:self` is listed twice: remove this one",
        ]
    );
}

#[test]
fn methods() {
    let (_, errs) = route(r#"GET, "/x""#);
    assert_eq!(
        errs,
        ["HTTP methods are written in lower case: write `get`"]
    );
    let (_, errs) = route(r#"pacth, "/x""#);
    assert_eq!(errs, ["unknown HTTP method `pacth`: did you mean `patch`?"]);
    for m in Method::ALL {
        let (c, errs) = route(&format!(r#"{}, "/x""#, m.keyword()));
        assert!(errs.is_empty());
        assert_eq!(c.unwrap().method, m);
    }
    assert_eq!(Method::Options.guard(), "Options");
    assert_eq!(Method::Delete.upper(), "DELETE");
}

#[test]
fn non_async_handlers_are_refused() {
    let (c, errs) = route_in(
        r#"get, "/x""#,
        parse_quote!(
            fn h() {}
        ),
        &Enclosing::default(),
    );
    assert!(c.is_none());
    assert_eq!(errs, ["a route handler must be async: write `async fn h`"]);
}

#[test]
fn option_shapes() {
    let (_, errs) = route(r#"get, "/x", scopes = "ti:self""#);
    assert_eq!(
        errs,
        ["`scopes` takes a list of strings and `any(..)`s: write `scopes = [\"ti:self\"]` or `scopes = [any(\"account:self\", \"ledger:admin\")]`"]
    );
    let (_, errs) = route(r#"get, "/x", public = true"#);
    assert_eq!(errs, ["`public` takes no value: write `public`"]);
    let (_, errs) = route(r#"get, "/x", scopes = [], scopes = []"#);
    assert_eq!(errs, ["`scopes` is given twice: merge them into one list"]);
    let (_, errs) = route(r#"get, "/x", scopes = [ti_self]"#);
    assert_eq!(
        errs,
        [
            "a scope is a string literal, or `any(..)` of them: write e.g. `\"ti:self\"` or \
          `any(\"account:self\", \"ledger:admin\")`"
        ]
    );
    let (_, errs) = route(r#"get, "/x", prefix = "/a""#);
    assert_eq!(
        errs,
        [
            "unknown option `prefix`: `#[route]` takes `scopes = [\"...\"]` or `public`, and \
          `unowned = [\"...\"]`, `guard = ..`, `request = T` and `responses(..)`"
        ]
    );
    let (_, errs) = route(r#"get, "/x", request"#);
    assert_eq!(
        errs,
        ["`request` takes the type of the JSON request body: write `request = MyBody`"]
    );
    let (_, errs) = route(r#"get, "/x", responses = [200]"#);
    assert_eq!(
        errs,
        [
            "`responses` takes a list of statuses in parentheses: write \
          `responses(201 = MyBody, 404)`"
        ]
    );
    let (_, errs) = route(r#"get, "/x", response(200)"#);
    assert_eq!(
        errs,
        ["unknown option `response`: did you mean `responses`?"]
    );
    let (_, errs) = route(r#"get, "/x", public(1)"#);
    assert_eq!(errs, ["`public` takes no value: write `public`"]);
}

#[test]
fn documentation_of_a_route() {
    let (c, errs) = route_in(
        r#"patch, "/<task_instance_id>/items/<n>", scopes = ["ti:self"],
           responses(201 = Created, 409)"#,
        parse_quote! {
            /// Adds an item.
            ///
            /// Twice is a 409.
            async fn add(
                t: TiToken,
                p: web::Path<(String, u32)>,
                b: web::Json<Item>,
            ) -> web::Json<Vec<Item>> {}
        },
        &Enclosing::default(),
    );
    assert!(errs.is_empty(), "{errs:?}");
    let doc = c.unwrap().doc;
    assert_eq!(doc.summary.as_deref(), Some("Adds an item."));
    assert_eq!(doc.description.as_deref(), Some("Twice is a 409."));
    assert_eq!((doc.operation_id.as_str(), doc.tag), ("add", None));
    assert_eq!(
        doc.params,
        [
            ("task_instance_id".to_owned(), crate::doc::ParamKind::Uuid),
            ("n".to_owned(), crate::doc::ParamKind::UInt32),
        ]
    );
    let text = |t: &Option<syn::Type>| t.as_ref().map(|t| quote::quote!(#t).to_string());
    assert_eq!(text(&doc.request).as_deref(), Some("Item"));
    let responses: Vec<(u16, Option<String>)> =
        doc.responses.iter().map(|(s, t)| (*s, text(t))).collect();
    assert_eq!(
        responses,
        [
            (200, Some("Vec < Item >".to_owned())),
            (201, Some("Created".to_owned())),
            (409, None)
        ]
    );
    // `request = T` wins over the argument, a declared 200 over the
    // return type.
    let (c, _) = route_in(
        r#"post, "/x", request = Other, responses(200 = Declared)"#,
        parse_quote!(
            async fn x(b: web::Json<Item>) -> Json<Item> {}
        ),
        &Enclosing::default(),
    );
    let doc = c.unwrap().doc;
    assert_eq!(text(&doc.request).as_deref(), Some("Other"));
    assert_eq!(doc.responses.len(), 1);
    assert_eq!(text(&doc.responses[0].1).as_deref(), Some("Declared"));
}

#[test]
fn protected_routes_leave_401_and_403_to_scopegate() {
    let (c, errs) = route(r#"get, "/x", responses(401, 403 = Detail, 404)"#);
    assert!(c.is_none());
    assert_eq!(errs.len(), 2);
    assert_eq!(
        errs[0],
        "scopegate documents 401 and 403 on every protected route, with the \
         `{\"detail\": ..}` body it answers them with: remove `401` from `responses`"
    );
    let (c, errs) = route(r#"get, "/x", public, responses(200 = Health, 403)"#);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(c.unwrap().doc.responses.len(), 2);
}

#[test]
fn operation_ids_are_the_module_path_and_unique() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/a")]
        mod api {
            #[route(get, "/x")]
            async fn get() {}
            #[routes(prefix = "/b")]
            mod b {
                #[route(get, "/x")]
                async fn get() {}
            }
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    let ids: Vec<(String, Option<String>)> = g
        .routes()
        .iter()
        .map(|r| {
            let doc = &r.checked.as_ref().unwrap().doc;
            (doc.operation_id.clone(), doc.tag.clone())
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("api_get".to_owned(), Some("api".to_owned())),
            ("api_b_get".to_owned(), Some("b".to_owned())),
        ]
    );
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/a")]
        mod api {
            #[routes(prefix = "/b")]
            mod b {
                #[route(get, "/x")]
                async fn get() {}
            }
            #[route(get, "/y")]
            async fn b_get() {}
        }
    });
    assert_eq!(
        errs,
        [
            "this route's OpenAPI operationId (its group modules and name, joined by `_`) is \
          `api_b_get`, which `get` has too: rename this handler or its module"
        ]
    );
}

#[test]
fn public_route_in_scoped_group() {
    let (g, errs) = group(parse_quote! {
        #[routes(scopes = ["token:workload"])]
        mod outer {
            #[routes(prefix = "/inner")]
            mod inner {
                #[route(get, "/health", public)]
                async fn health() {}
            }
        }
    });
    assert!(g.has_errors);
    assert_eq!(
        errs,
        [
            "a `public` route cannot be inside `mod outer`, whose `#[routes]` declares scopes: \
          move this route out of the group"
        ]
    );
}

#[test]
fn duplicate_routes_across_nested_groups() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/a")]
        mod outer {
            #[route(get, "/b/<x>")]
            async fn first() {}
            #[route(put, "/b/<x>")]
            async fn other_method() {}
            #[routes(prefix = "/b")]
            mod inner {
                #[route(get, "/{y}")]
                async fn second() {}
            }
        }
    });
    assert!(g.has_errors);
    assert_eq!(
        errs,
        [
            "`GET /a/b/<y>` is already declared by `first`: change the method or the path, \
          or remove one of the two"
        ]
    );
}

#[test]
fn fallbacks_cover_each_path_shape_once_most_specific_first() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/shop")]
        mod shop {
            #[route(get, "/items/search")]
            async fn search() {}
            #[route(get, "/items/<id>")]
            async fn get_item() {}
            #[routes(prefix = "/items")]
            mod nested {
                #[route(put, "/{other}")]
                async fn put_item() {}
                #[route(post, "/<id>/tags")]
                async fn tag() {}
            }
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    let fallbacks: Vec<(String, Vec<(String, Method)>)> = g
        .fallbacks()
        .iter()
        .map(|f| {
            let routes = f
                .routes
                .iter()
                .map(|(r, m)| (r.name().to_string(), *m))
                .collect();
            (f.pattern.clone(), routes)
        })
        .collect();
    let route = |name: &str, m| (name.to_owned(), m);
    assert_eq!(
        fallbacks,
        [
            (
                "/shop/items/search".to_owned(),
                vec![
                    route("search", Method::Get),
                    route("get_item", Method::Get),
                    route("put_item", Method::Put),
                ]
            ),
            (
                "/shop/items/{id}".to_owned(),
                vec![
                    route("get_item", Method::Get),
                    route("put_item", Method::Put)
                ]
            ),
            (
                "/shop/items/{id}/tags".to_owned(),
                vec![route("tag", Method::Post)]
            ),
        ]
    );
}

#[test]
fn duplicates_under_cfgs() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/a")]
        mod g {
            #[cfg(unix)]
            #[route(get, "/x")]
            async fn unix_x() {}
            #[cfg(not(unix))]
            #[route(get, "/x")]
            async fn other_x() {}
            #[route(get, "/x")]
            #[cfg(unix)]
            async fn unix_again() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`GET /a/x` is already declared by `unix_x`: change the method or the path, \
          or remove one of the two"
        ],
        "identical cfgs are a duplicate, whatever the attributes' order"
    );
    assert!(g.has_errors);
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/a")]
        mod g {
            #[route(get, "/<x>")]
            async fn always() {}
            #[cfg(feature = "x")]
            #[route(get, "/<y>")]
            async fn with_x() {}
            #[routes]
            #[cfg(unix)]
            mod inner {
                #[route(get, "/{z}")]
                async fn on_unix() {}
            }
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    assert!(!g.has_errors);
    let deferred: Vec<(String, String)> = g
        .cfg_duplicates
        .iter()
        .map(|d| (d.message.clone(), cfg_text(&d.conditions)))
        .collect();
    let message = |param: &str, first: &str| {
        format!(
            "`GET /a/<{param}>` is already declared by `{first}` when both their `#[cfg]`s \
             hold: make the `#[cfg]`s exclude each other, change the method or the path, \
             or remove one of the two"
        )
    };
    assert_eq!(
        deferred,
        [
            (message("y", "always"), "#[cfg(feature = \"x\")]".to_owned()),
            (message("z", "always"), "#[cfg(unix)]".to_owned()),
            (
                message("z", "with_x"),
                "#[cfg(feature = \"x\")] #[cfg(unix)]".to_owned()
            ),
        ]
    );
}

fn cfg_text(c: &Conditions) -> String {
    c.text().replace("# [", "#[").replace(" (", "(")
}

#[test]
fn route_macros_in_cfg_attr_are_refused_inside_groups() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/a", scopes = ["token:workload"])]
        mod g {
            #[cfg_attr(feature = "x", route(get, "/x"))]
            async fn hidden() {}
            #[cfg_attr(unix, scopegate::routes(prefix = "/b"))]
            mod hidden_group {}
            mod plain {
                #[cfg_attr(unix, route(get, "/y"))]
                async fn escaped() {}
            }
        }
    });
    assert!(g.has_errors);
    assert_eq!(
        errs,
        [
            "`#[routes]` cannot see a `#[route]` inside `#[cfg_attr]`, so this group's prefix \
             and scopes would not apply to it: write `#[cfg(feature = \"x\")]` and \
             `#[route(..)]` as two attributes",
            "`#[routes]` cannot see a `#[routes]` inside `#[cfg_attr]`, so this group's prefix \
             and scopes would not apply to it: write `#[cfg(unix)]` and `#[routes(..)]` as \
             two attributes",
            "this route is in `mod plain`, which has no `#[routes]`, so the group would not \
             apply to it: add `#[routes]` to `mod plain`",
        ]
    );
    // Taken out, so they are not expanded on their own.
    match &g.items[0] {
        GroupItem::Plain(Item::Fn(f)) => assert!(f.attrs.is_empty()),
        _ => panic!("the handler is kept as a plain fn"),
    }
}

#[test]
fn group_shape_errors() {
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/a/<id>")]
        mod g {
            #[route(get, "/<id>")]
            async fn h() {}
            #[route(get, "/x")]
            struct NotAFn;
            fn configure() {}
            mod plain {
                #[route(get, "/y")]
                async fn escaped() {}
            }
        }
    });
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(errs[0].starts_with("path parameter `<id>` is already in the group prefix \"/a/<id>\""));
    assert_eq!(errs[1], "`#[route]` goes on an `async fn` handler");
    assert_eq!(
        errs[2],
        "`configure` is generated by `#[routes]`: rename this item"
    );
    assert!(errs[3].starts_with("this route is in `mod plain`, which has no `#[routes]`"));
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/a/")]
        mod g;
    });
    assert_eq!(
        errs,
        [
            "prefix must not end with `/`: write \"/a\"",
            "`#[routes]` needs the module's items inline: write `mod g { .. }`",
        ]
    );
}

/// A vocabulary of another service: two types in the `kind` claim, an
/// exact owner on a string id and a UUID owner.
fn ledger() -> std::sync::Arc<crate::vocab::Vocabulary> {
    let text = r#"
        [token]
        claim = "kind"
        types = ["clerk", "auditor"]
        default = "clerk"
        [owners."account:self"]
        param = "account"
        compare = "exact"
        claim = "acct"
        label = "account"
        [owners."entry:self"]
        param = "entry_id"
        label = "entry ID"
    "#;
    let path = std::path::Path::new("/ledger/scopegate.toml");
    std::sync::Arc::new(crate::config::parse(path, text).unwrap())
}

#[test]
fn ownership_lint_on_routes() {
    let (c, errs) = route(r#"get, "/task-instances/<task_instance_id>/peek""#);
    assert!(c.is_none());
    assert_eq!(
        errs,
        [
            "\"/task-instances/<task_instance_id>/peek\" has the path parameter \
          `task_instance_id`, which `ti:self` guards, but this route does not check it: add \
          \"ti:self\" to its scopes, or write `unowned = [\"task_instance_id\"]` if any allowed \
          token may use any task instance ID here"
        ]
    );
    let (c, errs) =
        route(r#"get, "/task-instances/<task_instance_id>/peek", unowned = ["task_instance_id"]"#);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(policy(&c.unwrap()), (vec![E], vec![]));
    let (_, errs) = route(r#"get, "/ct/{connection_test_id}", public"#);
    assert_eq!(
        errs,
        [
            "\"/ct/<connection_test_id>\" has the path parameter `connection_test_id`, which \
          `ct:self` guards, but this route is `public`: remove `public` and add \"ct:self\" to \
          its scopes, or write `unowned = [\"connection_test_id\"]` if anyone may use any \
          connection test ID here"
        ]
    );
    let (c, errs) =
        route(r#"get, "/ct/{connection_test_id}", public, unowned = ["connection_test_id"]"#);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(c.unwrap().policy, Policy::Public);
}

#[test]
fn unowned_names_only_what_it_can_waive() {
    let (_, errs) = route(
        r#"get, "/ti/<task_instance_id>/<variable_key>", scopes = ["ti:self"],
           unowned = ["task_instance_id", "variable_key", "connection_test_id", "key"]"#,
    );
    assert_eq!(
        errs,
        [
            "`unowned` names `task_instance_id`, but this route checks `ti:self`, which guards \
             it: remove it from `unowned`",
            "`unowned` names `variable_key`, which no owner scope guards, so there is nothing \
             to waive: remove it from `unowned`",
            "`unowned` names `connection_test_id`, but \"/ti/<task_instance_id>/<variable_key>\" \
             has no parameter `connection_test_id`: remove it from `unowned`",
            "`unowned` names `key`, but \"/ti/<task_instance_id>/<variable_key>\" has no \
             parameter `key`: remove it from `unowned`",
        ]
    );
    let (_, errs) = route(
        r#"get, "/ti/<task_instance_id>", unowned = ["task_instance_id", "task_instance_id"]"#,
    );
    assert_eq!(
        errs,
        ["`task_instance_id` is listed twice in `unowned`: remove this one"]
    );
    let (_, errs) = route(r#"get, "/x", unowned = "task_instance_id""#);
    assert_eq!(
        errs,
        ["`unowned` takes a list of path parameter names: write \
          `unowned = [\"task_instance_id\"]`"]
    );
}

#[test]
fn ownership_lint_sees_group_prefixes() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/task-instances/<task_instance_id>")]
        mod task_instances {
            #[route(get, "/previous")]
            async fn previous() {}
            #[route(get, "/peek", unowned = ["task_instance_id"])]
            async fn peek() {}
            #[routes(scopes = ["ti:self"])]
            mod owned {
                #[route(put, "/heartbeat")]
                async fn heartbeat() {}
            }
        }
    });
    assert!(g.has_errors);
    assert_eq!(
        errs,
        [
            "\"/task-instances/<task_instance_id>/previous\" has the path parameter \
          `task_instance_id`, which `ti:self` guards, but this route does not check it: add \
          \"ti:self\" to its scopes, or write `unowned = [\"task_instance_id\"]` if any allowed \
          token may use any task instance ID here"
        ]
    );
}

#[test]
fn ownership_lint_adds_no_noise_to_other_mistakes() {
    // The option is misspelt, so its scopes are unknown: only that is said.
    let (_, errs) = route(r#"put, "/<task_instance_id>/heartbeat", scope = ["ti:self"]"#);
    assert_eq!(errs, ["unknown option `scope`: did you mean `scopes`?"]);
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/task-instances", scopes = ["ti:selff"])]
        mod task_instances {
            #[route(put, "/<task_instance_id>/heartbeat")]
            async fn heartbeat() {}
        }
    });
    assert_eq!(errs, ["unknown scope `ti:selff`: did you mean `ti:self`?"]);
}

#[test]
fn another_vocabulary() {
    let enclosing = Enclosing::top(ledger());
    let func: ItemFn = parse_quote!(
        async fn h() {}
    );
    let (c, errs) = route_in(
        r#"get, "/accounts/<account>/entries/<entry_id>", scopes = ["account:self", "entry:self", "token:auditor"]"#,
        func.clone(),
        &enclosing,
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        policy(&c.unwrap()),
        (vec![1], vec!["account:self", "entry:self"])
    );
    let (c, _) = route_in(r#"get, "/books""#, func.clone(), &enclosing);
    assert_eq!(
        policy(&c.unwrap()),
        (vec![0], vec![]),
        "the default type is clerk"
    );
    let (_, errs) = route_in(
        r#"get, "/accounts/<account>", scopes = ["token:admin", "acount:self", "ti:self"]"#,
        func.clone(),
        &enclosing,
    );
    assert_eq!(
        errs,
        [
            "unknown scope `token:admin`: `admin` is not a token type of this crate: write one of \
             `token:clerk`, `token:auditor`, `account:self`, `entry:self`, or add \"admin\" to \
             `types` in /ledger/scopegate.toml",
            "unknown scope `acount:self`: did you mean `account:self`?",
            "unknown scope `ti:self`: write one of `token:clerk`, `token:auditor`, \
             `account:self`, `entry:self`",
        ]
    );
    let (_, errs) = route_in(
        r#"get, "/books", scopes = ["entry:self"]"#,
        func.clone(),
        &enclosing,
    );
    assert_eq!(
        errs,
        [
            "`entry:self` needs the path parameter `entry_id`, but \"/books\" has none: add \
          `<entry_id>` to the path, or remove `entry:self`"
        ]
    );
    let (_, errs) = route_in(r#"get, "/accounts/<account>""#, func, &enclosing);
    assert_eq!(
        errs,
        [
            "\"/accounts/<account>\" has the path parameter `account`, which `account:self` \
          guards, but this route does not check it: add \"account:self\" to its scopes, or \
          write `unowned = [\"account\"]` if any allowed token may use any account here"
        ]
    );
}

#[test]
fn a_broken_scopegate_toml_checks_nothing_else() {
    let config = crate::config::Config {
        file: Some("/svc/scopegate.toml".into()),
        vocabulary: Err(std::sync::Arc::new(vec![
            "/svc/scopegate.toml:1:1: no `[token]` table".to_owned(),
        ])),
        report: true,
    };
    let mut cx = Ctxt::default();
    let enclosing = Enclosing::from_config(&mut cx, &config);
    let route = Route::new(
        &mut cx,
        syn::parse_str(r#"get, "/<task_instance_id>", scopes = ["dag:self"]"#),
        parse_quote!(
            async fn h() {}
        ),
        &enclosing,
    );
    assert!(route.checked.is_none(), "a stub");
    assert_eq!(errors(cx), ["/svc/scopegate.toml:1:1: no `[token]` table"]);
}

fn protected_in(module: ItemMod) -> (Group, Vec<String>) {
    group(module)
}

#[test]
fn protect_in_a_group() {
    let (g, errs) = protected_in(parse_quote! {
        #[routes(prefix = "/task-instances/{task_instance_id}", scopes = ["ti:self"])]
        mod task_instances {
            use actix_web::route;
            #[scopegate::protect(scopes = ["token:workload"])]
            #[actix_web::patch("/run", name = "run_ti")]
            async fn run() -> HttpResponse { todo!() }
            #[protect]
            #[route("/heartbeat", method = "PUT")]
            async fn heartbeat() -> HttpResponse { todo!() }
            #[scopegate::route(get, "/state")]
            async fn state() -> HttpResponse { todo!() }
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        listing(&g),
        [
            (
                "PATCH".into(),
                "/task-instances/<task_instance_id>/run".into(),
                vec![W],
                vec!["ti:self"]
            ),
            (
                "PUT".into(),
                "/task-instances/<task_instance_id>/heartbeat".into(),
                vec![E],
                vec!["ti:self"]
            ),
            (
                "GET".into(),
                "/task-instances/<task_instance_id>/state".into(),
                vec![E],
                vec!["ti:self"]
            ),
        ]
    );
    let code = crate::expand::group(&g).to_string();
    assert!(
        code.contains(
            "# [actix_web :: patch (\"/task-instances/{task_instance_id}/run\" , name = \"run_ti\" \
             , wrap = \"::scopegate::Enforce::new(&Self::POLICY)\")]"
        ),
        "{code}"
    );
    assert!(
        code.contains(
            "# [route (\"/task-instances/{task_instance_id}/heartbeat\" , method = \"PUT\" , \
             wrap = \"::scopegate::Enforce::new(&Self::POLICY)\")]"
        ),
        "{code}"
    );
    assert!(code.contains("impl run {"), "{code}");
    assert!(
        code.contains("HttpServiceFactory :: register (run , config) ;"),
        "{code}"
    );
    // Its service is actix's: the dispatcher lists it, and leaves it to
    // the routes registered one by one.
    assert!(
        code.contains(
            "pattern : \"/task-instances/{task_instance_id}/run\" , service : :: core :: option \
             :: Option :: None , exact : true"
        ),
        "{code}"
    );
    assert!(
        !code.contains("# [protect") && !code.contains(":: protect ("),
        "{code}"
    );
}

#[test]
fn what_a_group_refuses_around_protect() {
    let (g, errs) = protected_in(parse_quote! {
        #[routes(prefix = "/a")]
        mod a {
            #[actix_web::get("/unprotected")]
            async fn unprotected() -> HttpResponse { todo!() }
            #[protect(public)]
            #[get("/public")]
            async fn public() -> HttpResponse { todo!() }
            #[protect(prefix = "/x")]
            #[get("/prefixed")]
            async fn prefixed() -> HttpResponse { todo!() }
            #[protect]
            async fn bare() -> HttpResponse { todo!() }
            #[protect]
            #[route(get, "/scopegates")]
            async fn ours() -> HttpResponse { todo!() }
            #[protect]
            struct NotAFn;
            mod plain {
                #[protect]
                #[get("/stray")]
                async fn stray() -> HttpResponse { todo!() }
            }
        }
    });
    assert!(g.has_errors);
    assert_eq!(
        errs,
        [
            "this actix-web `#[get]` is inside a `#[routes]` group, which would neither prefix, \
             protect nor list it: add `#[protect]` (or `#[protect(scopes = [..])]`) above it, or \
             move the handler out of the group",
            "`#[protect]` always needs a token: a handler that needs none is simply not \
             scopegate's, so remove `#[protect]` (inside a `#[routes]` group, declare it with \
             `#[route(get, \"/..\", public)]`)",
            "unknown option `prefix`: `#[protect]` takes `scopes = [\"...\"]`, \
             `unowned = [\"...\"]`, `guard = ..`, `request = T` and `responses(..)`",
            crate::actix::MISSING,
            crate::group::PROTECT_WITH_ROUTE,
            "`#[protect]` goes on an `async fn` handler, above its actix-web route attribute",
            "this route is in `mod plain`, which has no `#[routes]`, so the group would not \
             apply to it: add `#[routes]` to `mod plain`",
        ]
    );
}

#[test]
fn vocabularies_as_constants() {
    assert_eq!(
        crate::expand::vocabulary(&crate::vocab::Vocabulary::airflow()).to_string(),
        ":: scopegate :: Vocabulary :: AIRFLOW"
    );
    assert_eq!(
        crate::expand::vocabulary(&ledger()).to_string(),
        ":: scopegate :: Vocabulary :: new (\"kind\" , & [\"clerk\" , \"auditor\"] , 0usize)"
    );
}

/// Airflow's XCom routes with `{key:path}`: accepted in Airflow's order,
/// listed with `<key:path>`, and their 405 fallbacks ordered so that the
/// most specific shape comes first even when a tail covers it.
#[test]
fn tails_in_airflows_order_are_accepted_with_their_fallbacks() {
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/xcoms")]
        mod xcoms {
            #[route(get, "/<dag_id>/<key:path>/item/<offset>")]
            async fn item() {}
            #[route(get, "/<dag_id>/<key:path>/slice")]
            async fn slice() {}
            #[route(get, "/<dag_id>/<key:path>")]
            async fn get() {}
            #[route(post, "/<dag_id>/{key:.*}")]
            async fn set() {}
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    let paths: Vec<String> = listing(&g)
        .into_iter()
        .map(|(m, p, ..)| m + " " + &p)
        .collect();
    assert_eq!(
        paths,
        [
            "GET /xcoms/<dag_id>/<key:path>/item/<offset>",
            "GET /xcoms/<dag_id>/<key:path>/slice",
            "GET /xcoms/<dag_id>/<key:path>",
            "POST /xcoms/<dag_id>/<key:path>",
        ]
    );
    let fallbacks: Vec<(String, Vec<String>)> = g
        .fallbacks()
        .iter()
        .map(|f| {
            let routes = f.routes.iter().map(|(r, _)| r.name().to_string()).collect();
            (f.pattern.clone(), routes)
        })
        .collect();
    let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        fallbacks,
        [
            (
                "/xcoms/{dag_id}/{key:.+}/slice".to_owned(),
                names(&["slice", "get", "set"])
            ),
            (
                "/xcoms/{dag_id}/{key:.+}/item/{offset}".to_owned(),
                names(&["item", "get", "set"])
            ),
            (
                "/xcoms/{dag_id}/{key:.+}".to_owned(),
                names(&["get", "set"])
            ),
        ]
    );
}

#[test]
fn a_route_an_earlier_one_covers_is_never_reached() {
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/variables")]
        mod variables {
            #[route(get, "/<variable_key:path>")]
            async fn get() {}
            #[route(put, "/keys")]
            async fn put_keys() {}
            #[route(get, "/keys")]
            async fn keys() {}
            #[route(get, "/<a>/<b>")]
            async fn two() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`GET /variables/keys` is never reached: `get`, declared before it, matches every \
             path it matches (`GET /variables/<variable_key:path>`): declare this route before \
             `get`",
            "`GET /variables/<a>/<b>` is never reached: `get`, declared before it, matches every \
             path it matches (`GET /variables/<variable_key:path>`): declare this route before \
             `get`",
        ]
    );
    // Declared the other way round, as Airflow does, all is well.
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/variables")]
        mod variables {
            #[route(get, "/keys")]
            async fn keys() {}
            #[route(get, "/<variable_key:path>")]
            async fn get() {}
            #[route(get, "/<variable_key:path>/x")]
            async fn x() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`GET /variables/<variable_key:path>/x` is never reached: `get`, declared before it, \
          matches every path it matches (`GET /variables/<variable_key:path>`): declare this \
          route before `get`"
        ]
    );
    // An actix guard of its own lets a request go on to the next route.
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/variables")]
        mod variables {
            #[protect]
            #[get("/{variable_key:path}", guard = "json_only")]
            async fn get() {}
            #[protect]
            #[get("/keys")]
            async fn keys() {}
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/variables")]
        mod variables {
            #[protect]
            #[get("/{variable_key:path}")]
            async fn get() {}
            #[protect]
            #[get("/keys")]
            async fn keys() {}
        }
    });
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("`GET /variables/keys` is never reached"));
    let (_, errs) = group(parse_quote! {
        mod d {
            #[route(get, "/<a:path>")]
            async fn first() {}
            #[route(get, "/{b:path}")]
            async fn second() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`GET /<b:path>` is already declared by `first`: change the method or the path, or \
          remove one of the two"
        ]
    );
}

#[test]
fn a_tail_is_never_an_owners_parameter_and_one_per_full_path() {
    let (_, errs) = route(r#"get, "/ti/<task_instance_id:path>", scopes = ["ti:self"]"#);
    assert_eq!(
        errs,
        [
            "`<task_instance_id:path>` takes the rest of the path, but `task_instance_id` is the \
          parameter `ti:self` guards, which owns one segment: write `<task_instance_id>`"
        ]
    );
    // Without the owner on the route as well: the name alone is refused.
    let (_, errs) = route(r#"get, "/ti/<task_instance_id:path>", unowned = ["task_instance_id"]"#);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("`<task_instance_id:path>` takes the rest of the path"));
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/store/<key:path>")]
        mod store {
            #[route(get, "/<other:path>")]
            async fn get() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`<key:path>` in the group prefix \"/store/<key:path>\" already takes the rest of the \
          path, and a path has at most one: write `<other>` for one segment"
        ]
    );
    let (_, errs) = group(parse_quote! {
        #[routes(prefix = "/ti/{task_instance_id:path}", scopes = ["ti:self"])]
        mod store {
            #[route(get, "/x")]
            async fn get() {}
        }
    });
    assert_eq!(
        errs,
        [
            "`<task_instance_id:path>` takes the rest of the path, but `task_instance_id` is the \
          parameter `ti:self` guards, which owns one segment: write `<task_instance_id>`"
        ]
    );
    let (c, errs) =
        route(r#"get, "/store/ti/<task_instance_id>/<key:path>", scopes = ["ti:self"]"#);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        c.unwrap().path.actix(),
        "/store/ti/{task_instance_id}/{key:.+}"
    );
}

/// A service with user and service tokens, an owner, and permissions in
/// `scp`.
fn notes() -> std::sync::Arc<crate::vocab::Vocabulary> {
    let text = r#"
        [token]
        claim = "typ"
        types = ["user", "service"]
        default = "user"
        [owners."owner:self"]
        param = "owner"
        compare = "exact"
        [permissions]
        claim = "scp"
        names = ["notes:read", "notes:write", "notes:admin"]
    "#;
    let path = std::path::Path::new("/notes/scopegate.toml");
    std::sync::Arc::new(crate::config::parse(path, text).unwrap())
}

/// The same permissions, no types.
fn untyped() -> std::sync::Arc<crate::vocab::Vocabulary> {
    let text = "[permissions]\nnames = [\"notes:read\", \"notes:write\"]\n";
    let path = std::path::Path::new("/notes/scopegate.toml");
    std::sync::Arc::new(crate::config::parse(path, text).unwrap())
}

fn checks(c: &Checked) -> Vec<crate::model::Check> {
    match &c.policy {
        Policy::Protected { checks, .. } => checks.clone(),
        Policy::Public => panic!("public"),
    }
}

#[test]
fn permissions_and_alternatives_in_declaration_order() {
    use crate::model::{Atom, Check};
    let enc = Enclosing::top(notes());
    let (c, errs) = route_in(
        r#"get, "/notes/<owner>", scopes = ["notes:write", any("owner:self", all("notes:admin", "token:service")), "notes:read", "token:user", "token:service"]"#,
        parse_quote!(
            async fn h() {}
        ),
        &enc,
    );
    assert!(errs.is_empty(), "{errs:?}");
    let c = c.unwrap();
    assert_eq!(
        checks(&c),
        [
            Check::Permission(1),
            Check::Any(vec![
                vec![Atom::Owner(0)],
                vec![Atom::Permission(2), Atom::Type(1)]
            ]),
            Check::Permission(0),
        ]
    );
    assert!(c.policy.has_requirements());
    assert_eq!(policy(&c), (vec![0, 1], vec![]));
}

#[test]
fn the_owner_or_any_service_token() {
    let enc = Enclosing::top(notes());
    let func: ItemFn = parse_quote!(
        async fn h() {}
    );
    let ok = r#"get, "/notes/<owner>", scopes = ["token:user", "token:service", any("owner:self", "token:service")]"#;
    let (c, errs) = route_in(ok, func.clone(), &enc);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        policy(&c.unwrap()),
        (vec![0, 1], vec![]),
        "no owner required outside any(..)"
    );
    // A predicate of a type the route does not accept.
    let (_, errs) = route_in(
        r#"get, "/notes/<owner>", scopes = ["token:user", any("owner:self", "token:service")]"#,
        func.clone(),
        &enc,
    );
    assert_eq!(
        errs,
        [
            "`token:service` inside `any(..)` is a predicate, \"the token is a `service` token\", \
             and this route does not accept `service` tokens (it accepts `user`): add \
             \"token:service\" to its scopes, or remove it from `any(..)`"
        ]
    );
    // Predicates that cover every accepted type: the owner check is dead.
    let (_, errs) = route_in(
        r#"get, "/notes/<owner>", scopes = ["token:user", "token:service", any("owner:self", "token:user", "token:service")]"#,
        func.clone(),
        &enc,
    );
    assert_eq!(
        errs,
        [
            "this `any(..)` always holds: its `token:*` alternatives cover every type this route \
             accepts (`user`, `service`), so the owner check `owner:self` in it never decides \
             anything; remove the `any(..)` and write `unowned = [\"owner\"]` if any allowed \
             token may use any owner here"
        ]
    );
    let (_, errs) = route_in(
        r#"get, "/notes", scopes = [any("notes:admin", "token:user")]"#,
        func,
        &enc,
    );
    assert_eq!(
        errs,
        [
            "this `any(..)` always holds: its `token:*` alternatives cover every type this route \
             accepts (`user`), so its other alternatives are never needed; remove it"
        ]
    );
}

#[test]
fn an_owner_inside_any_satisfies_the_ownership_lint() {
    let enc = Enclosing::top(notes());
    let func: ItemFn = parse_quote!(
        async fn h() {}
    );
    let (c, errs) = route_in(
        r#"get, "/notes/<owner>", scopes = [any("owner:self", "notes:admin")]"#,
        func.clone(),
        &enc,
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert!(c.is_some());
    let (_, errs) = route_in(
        r#"get, "/notes/<owner>", scopes = ["notes:admin"]"#,
        func.clone(),
        &enc,
    );
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].contains("but this route does not check it"),
        "{errs:?}"
    );
    // An owner inside any(..) still needs its parameter.
    let (_, errs) = route_in(
        r#"get, "/notes", scopes = [any("owner:self", "notes:admin")]"#,
        func,
        &enc,
    );
    assert_eq!(
        errs,
        ["`owner:self` needs the path parameter `owner`, but \"/notes\" has none: add `<owner>` \
          to the path, or remove `owner:self`"]
    );
}

#[test]
fn permission_names_are_checked_like_every_scope() {
    let func: ItemFn = parse_quote!(
        async fn h() {}
    );
    let (_, errs) = route_in(
        r#"get, "/n", scopes = ["notes:reed", any("notes:writ", "token:user"), "zzz"]"#,
        func.clone(),
        &Enclosing::top(notes()),
    );
    assert_eq!(
        errs,
        [
            "unknown scope `notes:reed`: did you mean `notes:read`?",
            "unknown scope `notes:writ`: did you mean `notes:write`?",
            "unknown scope `zzz`: write one of `token:user`, `token:service`, `owner:self`, \
             `notes:read`, `notes:write`, `notes:admin`, or add \"zzz\" to `names` in \
             `[permissions]` of /notes/scopegate.toml",
        ]
    );
    let (c, errs) = route_in(
        r#"get, "/n", scopes = ["notes:read", any("notes:read", "notes:write")]"#,
        func.clone(),
        &Enclosing::top(untyped()),
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        policy(&c.unwrap()),
        (vec![0], vec![]),
        "the one implicit type"
    );
    let (c, errs) = route_in(
        r#"get, "/n", scopes = ["notes:read", any("token:user", "notes:write")]"#,
        func,
        &Enclosing::top(untyped()),
    );
    assert!(c.is_none());
    assert_eq!(
        errs,
        [
            "`token:user`: this crate's tokens have no type, as /notes/scopegate.toml declares \
          `[permissions]` and no `[token]`: remove `token:user`, or declare the types in a \
          `[token]` table, e.g. `types = [\"user\"]`"
        ]
    );
}

#[test]
fn guards_and_what_they_cannot_go_with() {
    let (c, errs) = route(r#"get, "/x", guard = [a, m::b]"#);
    assert!(errs.is_empty(), "{errs:?}");
    match c.unwrap().policy {
        Policy::Protected { guards, .. } => {
            let names: Vec<String> = guards.iter().map(|g| g.text()).collect();
            assert_eq!(names, ["a", "m::b"]);
            assert_eq!(guards[1].name(), "b");
        }
        Policy::Public => panic!("protected"),
    }
    let (_, errs) = route(r#"get, "/x", public, guard = a"#);
    assert_eq!(
        errs,
        [
            "a guard checks a request whose token a policy allowed, and a `public` route takes no \
          token: remove `guard = ..`, or remove `public`"
        ]
    );
    let (_, errs) = route(r#"get, "/x", guard = [a, a]"#);
    assert_eq!(errs, ["guard `a` is listed twice: remove this one"]);
    let (_, errs) = route(r#"get, "/x", guard = "a""#);
    assert_eq!(
        errs,
        [
            "`guard` takes a guard or a list of guards: write `guard = my_guard` or \
          `guard = [first, second]`"
        ]
    );
    let (g, errs) = group(parse_quote! {
        #[routes(prefix = "/g", guard = a)]
        mod g {
            #[route(get, "/x", guard = [b, a])]
            async fn x() {}
            #[route(get, "/health", public)]
            async fn health() {}
            #[routes(guard = c)]
            mod inner {
                #[route(get, "/y")]
                async fn y() {}
            }
        }
    });
    assert_eq!(
        errs,
        [
            "guard `a` already runs on this route, from `#[routes]` on `mod g`: remove it here",
            "a `public` route cannot be inside `mod g`, whose `#[routes]` declares a guard: a \
             guard checks a request whose token a policy allowed, and a `public` route takes no \
             token; move this route out of the group",
        ]
    );
    let y = &g.routes()[2];
    match &y.checked.as_ref().unwrap().policy {
        Policy::Protected { guards, .. } => {
            let names: Vec<String> = guards.iter().map(|g| g.text()).collect();
            assert_eq!(names, ["a", "c"], "outer groups first");
        }
        Policy::Public => panic!("protected"),
    }
}

#[test]
fn group_items_come_first() {
    use crate::model::Check;
    let enc = Enclosing::top(notes());
    let mut cx = Ctxt::default();
    let module: ItemMod = parse_quote! {
        mod g {
            #[route(get, "/<owner>/x", scopes = ["notes:read", "owner:self"])]
            async fn x() {}
        }
    };
    let args = syn::parse_str(r#"scopes = ["notes:write", any("owner:self", "notes:admin")]"#);
    let g = Group::top(&mut cx, args, module, &enc);
    assert!(errors(cx).is_empty());
    let c = g.routes()[0].checked.as_ref().unwrap();
    let got = checks(c);
    assert!(
        matches!(
            got.as_slice(),
            [
                Check::Permission(1),
                Check::Any(_),
                Check::Permission(0),
                Check::Owner(0)
            ]
        ),
        "{got:?}"
    );
}
