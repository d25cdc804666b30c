//! The router of Airflow's `routes/xcoms.py`, in a file of its own
//! as Airflow lays it out: the group `xcoms`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/xcoms.py`: XComs of any task, for execution tokens (the
/// default policy), behind Airflow's `has_xcom_access`, which decides
/// by team in multi-team mode and allows everything otherwise.
#[routes(prefix = "/xcoms", guard = has_xcom_access, included)]
pub mod xcoms {
    use super::*;
    use actix_web::error::PathError;

    /// The XCom the request's path names, decoded as `web::Path` decodes
    /// it, and borrowed from the path where it needs no decoding (a read
    /// allocates nothing for it).
    fn key(req: &HttpRequest) -> Result<XComKey<'_>> {
        let part = |name| scopegate::path_param(req, name);
        match (part("dag_id"), part("run_id"), part("task_id"), part("key")) {
            (Some(dag_id), Some(run_id), Some(task_id), Some(key)) => Ok(XComKey {
                dag_id,
                run_id,
                task_id,
                key,
            }),
            // A part that is not UTF-8 once decoded: `web::Path`'s lossy
            // copy, as Airflow's worker would have stored it.
            _ => req
                .match_info()
                .load()
                .map_err(|e| crate::errors::path_error(PathError::Deserialize(e), req)),
        }
    }

    /// One value of a mapped task, by position in map-index order.
    #[route(
        get,
        "/<dag_id>/<run_id>/<task_id>/<key:path>/item/<offset>",
        responses(200 = Value, 404 = ErrorBody)
    )]
    pub async fn item(
        store: web::Data<Store>,
        path: web::Path<(String, String, String, String, i64)>,
    ) -> Result<HttpResponse> {
        let (dag_id, run_id, task_id, key, offset) = path.into_inner();
        let key = XComKey {
            dag_id: dag_id.into(),
            run_id: run_id.into(),
            task_id: task_id.into(),
            key: key.into(),
        };
        Ok(HttpResponse::Ok().json(store.xcom_item(&key, offset)?))
    }

    /// The values of a mapped task, sliced as a Python list.
    #[route(get, "/<dag_id>/<run_id>/<task_id>/<key:path>/slice", responses(200 = Value))]
    pub async fn slice(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let slice = XComSlice {
            start: q.int("start")?,
            stop: q.int("stop")?,
            step: q.int("step")?,
            include_prior_dates: q.boolean("include_prior_dates")?.unwrap_or(false),
        };
        Ok(HttpResponse::Ok().json(store.xcom_slice(&key(&req)?, &slice)))
    }

    /// How many values are stored, in `Content-Range: map_indexes <n>`.
    /// A `map_index` is Airflow's 400.
    #[route(head, "/<dag_id>/<run_id>/<task_id>/<key:path>", responses(200, 400 = ErrorBody))]
    pub async fn head(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        if q.int("map_index")?.is_some() {
            return Err(crate::state::Refusal::BadRequest {
                reason: "invalid_request",
                message: "Cannot specify map_index in a HEAD request".into(),
            }
            .into());
        }
        let count = store.count_xcoms(&key(&req)?);
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_RANGE, format!("map_indexes {count}")))
            .json(Value::Null))
    }

    /// One value: at `map_index` (default -1), or the `offset`-th by map
    /// index.
    #[route(
        get,
        "/<dag_id>/<run_id>/<task_id>/<key:path>",
        responses(200 = XComResponse, 404 = ErrorBody)
    )]
    pub async fn get(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        Ok(store.get_xcom(
            &key(&req)?,
            q.int("map_index")?.unwrap_or(-1),
            q.boolean("include_prior_dates")?.unwrap_or(false),
            q.int("offset")?,
            |xcom| HttpResponse::Ok().json(xcom),
        )?)
    }

    /// Stores a value (any JSON; an empty body is `null`): 201.
    #[route(
        post,
        "/<dag_id>/<run_id>/<task_id>/<key:path>",
        request = Value,
        responses(201 = Message)
    )]
    pub async fn set(
        store: web::Data<Store>,
        req: HttpRequest,
        body: web::Bytes,
    ) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let value: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| Invalid::new("body", "", "json_invalid", e.to_string()))?
        };
        // Read, as Airflow's signature does; it only marks the value in
        // Airflow's table for its UI.
        q.boolean("dag_result")?;
        store.set_xcom(
            &key(&req)?,
            value,
            q.int("map_index")?.unwrap_or(-1),
            q.int("mapped_length")?,
        )?;
        Ok(HttpResponse::Created().json(Message::new("XCom successfully set")))
    }

    /// Deletes the value at `map_index` (default -1): 200.
    #[route(delete, "/<dag_id>/<run_id>/<task_id>/<key:path>", responses(200 = Message))]
    pub async fn delete(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let key = key(&req)?;
        store.delete_xcom(&key, q.int("map_index")?.unwrap_or(-1));
        Ok(HttpResponse::Ok().json(Message::new(format!(
            "XCom with key: {} successfully deleted.",
            key.key
        ))))
    }
}
