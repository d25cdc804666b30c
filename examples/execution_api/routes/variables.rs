//! The router of Airflow's `routes/variables.py`, in a file of its own
//! as Airflow lays it out: the group `variables`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/variables.py`: Airflow Variables, for execution tokens (the
/// default policy).
#[routes(prefix = "/variables", included)]
pub mod variables {
    use super::*;

    /// The sorted keys, by prefix and page (`limit` 1 to 10000,
    /// `offset` from 0).
    #[route(get, "/keys", responses(200 = VariableKeys))]
    pub async fn keys(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let limit = q.int("limit")?.unwrap_or(1000);
        if !(1..=10_000).contains(&limit) {
            let (kind, msg) = if limit < 1 {
                (
                    "greater_than_equal",
                    "Input should be greater than or equal to 1",
                )
            } else {
                (
                    "less_than_equal",
                    "Input should be less than or equal to 10000",
                )
            };
            return Err(Invalid::new("query", "limit", kind, msg).into());
        }
        let offset = q.int("offset")?.unwrap_or(0);
        let offset = usize::try_from(offset).map_err(|_| {
            Invalid::new(
                "query",
                "offset",
                "greater_than_equal",
                "Input should be greater than or equal to 0",
            )
        })?;
        let limit = usize::try_from(limit).unwrap_or(1000);
        Ok(HttpResponse::Ok().json(store.variable_keys(q.text("prefix"), limit, offset)))
    }

    /// The key of a variable route's path, decoded as `web::Path` decodes
    /// it, and borrowed from the path where it needs no decoding.
    #[derive(serde::Deserialize)]
    struct KeyPath<'a> {
        #[serde(borrow)]
        variable_key: std::borrow::Cow<'a, str>,
    }

    /// `{"key", "value"}`, or 404 with a `detail`.
    #[route(get, "/<variable_key:path>", responses(200 = VariableResponse, 404 = ErrorBody))]
    pub async fn get(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let path: KeyPath<'_> = req.match_info().load().map_err(|e| {
            crate::errors::path_error(actix_web::error::PathError::Deserialize(e), &req)
        })?;
        Ok(store.with_variable(&path.variable_key, |v| HttpResponse::Ok().json(v))?)
    }

    /// Creates or replaces a variable: 201.
    #[route(put, "/<variable_key:path>", responses(201 = Message))]
    pub async fn put(
        store: web::Data<Store>,
        key: web::Path<String>,
        body: web::Json<VariablePostBody>,
    ) -> Result<HttpResponse> {
        store.set_variable(&key, body.into_inner())?;
        Ok(HttpResponse::Created().json(Message::new("Variable successfully set")))
    }

    /// Deletes a variable: 204, whether it existed or not.
    #[route(delete, "/<variable_key:path>", responses(204))]
    pub async fn delete(store: web::Data<Store>, key: web::Path<String>) -> HttpResponse {
        store.delete_variable(&key);
        no_content()
    }
}
