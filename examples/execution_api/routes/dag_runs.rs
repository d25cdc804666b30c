//! The router of Airflow's `routes/dag_runs.py`, in a file of its own
//! as Airflow lays it out: the group `dag_runs`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/dag_runs.py`.
#[routes(prefix = "/dag-runs", included)]
pub mod dag_runs {
    use super::*;

    /// A DAG run, or 404.
    #[route(get, "/<dag_id>/<run_id>", responses(200 = DagRun, 404 = ErrorBody))]
    pub async fn get(
        store: web::Data<Store>,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse> {
        let (dag_id, run_id) = path.into_inner();
        Ok(HttpResponse::Ok().json(store.dag_run(&dag_id, &run_id)?))
    }

    /// Triggers a run of a known DAG (`TriggerDagRunOperator`): 204, 404
    /// for an unknown DAG, 409 when the run exists. The body is read as
    /// the client's API version defines it (`versions::Body`).
    #[route(
        post,
        "/<dag_id>/<run_id>",
        request = TriggerDagRun,
        responses(204, 404 = ErrorBody, 409 = ErrorBody)
    )]
    pub async fn trigger(
        token: TiToken,
        store: web::Data<Store>,
        path: web::Path<(String, String)>,
        body: Body<TriggerDagRun>,
    ) -> Result<HttpResponse> {
        let (dag_id, run_id) = path.into_inner();
        store.trigger_dag_run(token.id, &dag_id, &run_id, body.into_inner())?;
        Ok(no_content())
    }

    /// Clears a run: 204, or 404.
    #[route(post, "/<dag_id>/<run_id>/clear", responses(204, 404 = ErrorBody))]
    pub async fn clear(
        store: web::Data<Store>,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse> {
        let (dag_id, run_id) = path.into_inner();
        store.clear_dag_run(&dag_id, &run_id)?;
        Ok(no_content())
    }

    /// A run's state, or 404.
    #[route(
        get,
        "/<dag_id>/<run_id>/state",
        responses(200 = DagRunStateResponse, 404 = ErrorBody)
    )]
    pub async fn state(
        store: web::Data<Store>,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse> {
        let (dag_id, run_id) = path.into_inner();
        let state = store.dag_run_state(&dag_id, &run_id)?;
        Ok(HttpResponse::Ok().json(DagRunStateResponse { state }))
    }

    /// How many runs of a DAG match: a bare integer.
    #[route(get, "/count", responses(200 = usize))]
    pub async fn count(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let dag_id = q.required("dag_id")?;
        let filter = DagRunFilter {
            logical_dates: q.datetimes("logical_dates")?,
            run_ids: q.list("run_ids"),
            states: q.list("states"),
        };
        Ok(HttpResponse::Ok().json(store.count_dag_runs(dag_id, &filter)))
    }

    /// The latest run before a logical date, or `null`.
    #[route(get, "/previous", responses(200 = Option<DagRun>))]
    pub async fn previous(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let dag_id = q.required("dag_id")?;
        let logical_date = q
            .datetime("logical_date")?
            .ok_or_else(|| Invalid::new("query", "logical_date", "missing", "Field required"))?;
        let in_state = q.parsed(
            "state",
            DagRunState::parse,
            "enum",
            "Input should be 'queued', 'running', 'success' or 'failed'",
        )?;
        Ok(HttpResponse::Ok().json(store.previous_dag_run(dag_id, logical_date, in_state)))
    }
}
