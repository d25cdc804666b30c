//! [`route_table`]: a service's route policies as aligned text, one line
//! per route, for audits, command lines and snapshot tests.

use super::route::RouteInfo;

/// What the token-types column says for a route that needs no token. Not a
/// possible type name (`scopegate.toml` allows `[a-z0-9_-]` only), so it
/// cannot be mistaken for one.
const PUBLIC: &str = "(public)";
/// What the token-types column says in a vocabulary without types: every
/// token is accepted, whatever else the route requires.
const UNTYPED: &str = "(any)";
/// What the requirements column says for a route that checks nothing
/// beyond the type.
const NO_OWNER: &str = "-";

/// The route table of `routes` (a group's generated `ROUTES`): one line per
/// route with its method, full path, accepted token types (sorted,
/// comma-joined) and requirements, in aligned columns separated by two
/// spaces. A public route says `(public)` where the types would be, a route
/// of a vocabulary without types `(any)`.
///
/// The requirements column lists, comma-joined: the owner scopes (sorted),
/// the required permissions (sorted), each `any(..)` as declared
/// (`any(account:self, ledger:admin)`: an owner check with an alternative
/// shows there), then each guard in the order it runs
/// (`guard(xcom_access)`); `-` for none.
///
/// The lines are sorted by path, then method, so the table changes only
/// when a policy does, not when routes move in the source: check it in and
/// compare it in a test, and a policy change shows up in review as a diff
/// of this text. The `testing` feature re-exports it as
/// `scopegate::testing::route_table`; it lives outside that feature so a
/// service's own binary can print it (as `execution_api routes` does).
///
/// ```
/// use actix_web::HttpResponse;
/// use scopegate::{route_table, routes, TiToken};
///
/// #[routes(prefix = "/execution")]
/// mod api {
///     use super::*;
///
///     #[route(get, "/health", public)]
///     async fn health() -> HttpResponse { HttpResponse::Ok().finish() }
///
///     #[route(patch, "/task-instances/<task_instance_id>/run",
///             scopes = ["ti:self", "token:workload", "token:execution"])]
///     async fn run(_t: TiToken) -> HttpResponse { HttpResponse::Ok().finish() }
///
///     #[route(get, "/variables/<variable_key>")]
///     async fn get_variable(_t: TiToken) -> HttpResponse { HttpResponse::Ok().finish() }
/// }
///
/// fn main() {
///     assert_eq!(
///         route_table(api::ROUTES),
///         "\
/// GET    /execution/health                                 (public)            -
/// PATCH  /execution/task-instances/<task_instance_id>/run  execution,workload  ti:self
/// GET    /execution/variables/<variable_key>               execution           -
/// "
///     );
/// }
/// ```
pub fn route_table(routes: &[RouteInfo]) -> String {
    let mut rows: Vec<[String; 4]> = routes
        .iter()
        .map(|route| {
            let policy = &route.policy;
            let (types, owners) = if policy.is_public() {
                (PUBLIC.to_owned(), NO_OWNER.to_owned())
            } else {
                let types = if policy.vocabulary().is_typed() {
                    let types: Vec<&str> =
                        policy.token_types().iter().map(|t| t.as_str()).collect();
                    types.join(",")
                } else {
                    UNTYPED.to_owned()
                };
                (types, requirements(policy))
            };
            [
                route.method.to_owned(),
                route.path.to_owned(),
                types,
                owners,
            ]
        })
        .collect();
    rows.sort_by(|a, b| (&a[1], &a[0]).cmp(&(&b[1], &b[0])));
    let mut widths = [0; 3];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    for [method, path, types, owners] in &rows {
        for (cell, width) in [method, path, types].into_iter().zip(widths) {
            table.push_str(cell);
            let pad = width - cell.chars().count() + 2;
            table.extend(std::iter::repeat_n(' ', pad));
        }
        table.push_str(owners);
        table.push('\n');
    }
    table
}

/// The requirements column of a protected route.
fn requirements(policy: &super::route::RoutePolicy) -> String {
    let mut owners: Vec<&str> = policy.owners().iter().map(|o| o.scope()).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut permissions: Vec<&str> = policy.required_permissions().map(|p| p.name()).collect();
    permissions.sort_unstable();
    permissions.dedup();
    let mut items: Vec<String> = owners
        .into_iter()
        .chain(permissions)
        .map(str::to_owned)
        .collect();
    items.extend(policy.alternatives().map(|any| format!("any({any})")));
    items.extend(policy.guards().iter().map(|g| format!("guard({g})")));
    if items.is_empty() {
        NO_OWNER.to_owned()
    } else {
        items.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{
        Alternative, AnyOf, Condition, Owner, PermissionFormat, Permissions, Requirement,
        RoutePolicy, TokenType, TokenTypes, Vocabulary,
    };

    const TI_SELF: Owner = Owner::new("ti:self", "task_instance_id", "task instance ID");
    const CT_SELF: Owner = Owner::new("ct:self", "connection_test_id", "connection test ID");
    static LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor", "admin"], 0);

    fn info(method: &'static str, path: &'static str, policy: RoutePolicy) -> RouteInfo {
        RouteInfo {
            method,
            path,
            policy,
        }
    }

    #[test]
    fn sorted_by_path_then_method_and_aligned() {
        let both = TokenTypes::only(TokenType::WORKLOAD).with(TokenType::EXECUTION);
        let routes = [
            info(
                "PUT",
                "/ti/<task_instance_id>",
                RoutePolicy::protected(TokenTypes::EMPTY, &[TI_SELF]),
            ),
            info("GET", "/health", RoutePolicy::PUBLIC),
            info(
                "DELETE",
                "/ti/<task_instance_id>",
                RoutePolicy::protected(both, &[TI_SELF, CT_SELF, TI_SELF]),
            ),
        ];
        assert_eq!(
            route_table(&routes),
            "GET     /health                 (public)            -\n\
             DELETE  /ti/<task_instance_id>  execution,workload  ct:self,ti:self\n\
             PUT     /ti/<task_instance_id>  execution           ti:self\n"
        );
        // The order of the input does not matter.
        let mut reversed = routes;
        reversed.reverse();
        assert_eq!(route_table(&reversed), route_table(&routes));
    }

    #[test]
    fn another_vocabularys_types_sorted_by_name() {
        let routes = [info(
            "GET",
            "/a",
            RoutePolicy::protected(TokenTypes::from_bits(&LEDGER, 0b111), &[]),
        )];
        assert_eq!(route_table(&routes), "GET  /a  admin,auditor,clerk  -\n");
        // The default type when no `token:*` scope is declared.
        let routes = [info(
            "GET",
            "/a",
            RoutePolicy::protected(TokenTypes::none(&LEDGER), &[]),
        )];
        assert_eq!(route_table(&routes), "GET  /a  clerk  -\n");
    }

    #[test]
    fn permissions_alternatives_and_guards() {
        static PERMS: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0)
            .with_permissions(Permissions::new(
                "scope",
                PermissionFormat::Space,
                &["reports:read", "entries:write", "ledger:admin"],
            ));
        const ACCOUNT: Owner = Owner::new("account:self", "account", "account");
        static SUMMARY: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&PERMS), &[])
            .with_requirements(&[
                Requirement::Permission(PERMS.permission("reports:read")),
                Requirement::Any(AnyOf::new(&[
                    Alternative::all(&[Condition::Owner(ACCOUNT)]),
                    Alternative::all(&[
                        Condition::Permission(PERMS.permission("ledger:admin")),
                        Condition::TokenType(TokenTypes::from_bits(&PERMS, 0b10)),
                    ]),
                ])),
            ])
            .with_guards(&["known_account"]);
        static NOTES: Vocabulary = Vocabulary::untyped(Permissions::new(
            "scp",
            PermissionFormat::Array,
            &["notes:read"],
        ));
        let routes = [
            info("GET", "/summary/<account>", SUMMARY),
            info(
                "GET",
                "/notes",
                RoutePolicy::protected(TokenTypes::none(&NOTES), &[]),
            ),
        ];
        assert_eq!(
            route_table(&routes),
            "GET  /notes              (any)  -\n\
             GET  /summary/<account>  clerk  reports:read,any(account:self, all(ledger:admin, \
             token:auditor)),guard(known_account)\n"
        );
    }

    #[test]
    fn no_routes_no_lines() {
        assert_eq!(route_table(&[]), "");
    }
}
