//! The router of Airflow's `routes/task_instances.py`, in a file of its own
//! as Airflow lays it out: the group `task_instances`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/task_instances.py`: queries about a DAG's task instances for
/// any execution token, then (`ti_id_router`) the routes of one task
/// instance, which only its own token may call (`ti:self`).
#[routes(prefix = "/task-instances", included)]
pub mod task_instances {
    use super::*;

    /// The `TiFilter` of `count` and `states`.
    fn filter(q: &Query) -> Result<TiFilter> {
        Ok(TiFilter {
            map_index: q.int("map_index")?,
            task_ids: q.list("task_ids"),
            task_group_id: q.text("task_group_id").map(str::to_owned),
            logical_dates: q.datetimes("logical_dates")?,
            run_ids: q.list("run_ids"),
            states: q.list("states"),
        })
    }

    /// How many task instances of a DAG match: a bare integer.
    #[route(get, "/count", responses(200 = usize))]
    pub async fn count(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let dag_id = q.required("dag_id")?;
        Ok(HttpResponse::Ok().json(store.count_task_instances(dag_id, &filter(&q)?)?))
    }

    /// A task's instance in the latest earlier run, or `null`.
    #[route(get, "/previous/<dag_id>/<task_id>", responses(200 = Option<PreviousTi>))]
    pub async fn previous(
        store: web::Data<Store>,
        path: web::Path<(String, String)>,
        req: HttpRequest,
    ) -> Result<HttpResponse> {
        let (dag_id, task_id) = path.into_inner();
        let q = Query::parse(&req)?;
        let in_state = q.parsed(
            "state",
            TiState::parse,
            "enum",
            "Input should be a valid task instance state",
        )?;
        let previous = store.previous_task_instance(
            &dag_id,
            &task_id,
            q.datetime("logical_date")?,
            q.int("map_index")?.unwrap_or(-1),
            in_state,
        );
        Ok(HttpResponse::Ok().json(previous))
    }

    /// Run id → task → state.
    #[route(get, "/states", responses(200 = TaskStates))]
    pub async fn states(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let dag_id = q.required("dag_id")?;
        let filter = TiFilter {
            states: Vec::new(),
            ..filter(&q)?
        };
        Ok(HttpResponse::Ok().json(store.task_states(dag_id, &filter)?))
    }

    /// The finished task instances of a run.
    #[route(get, "/breadcrumbs", responses(200 = Breadcrumbs))]
    pub async fn breadcrumbs(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let dag_id = q.required("dag_id")?;
        let run_id = q.required("run_id")?;
        Ok(HttpResponse::Ok().json(store.breadcrumbs(dag_id, run_id)))
    }

    /// One task instance's life. Every route here belongs to the task
    /// instance in its path.
    #[routes(scopes = ["ti:self"])]
    pub mod owned {
        use super::*;

        /// queued → running. The only route a workload token may call:
        /// its answer swaps the workload token for an execution token,
        /// sent in `Refreshed-API-Token` (the refresh middleware keeps a
        /// header the handler set).
        #[route(
            patch,
            "/<task_instance_id>/run",
            scopes = ["token:execution", "token:workload"],
            responses(200 = RunContext, 404 = ErrorBody, 409 = ErrorBody)
        )]
        pub async fn run(
            token: TiToken,
            store: web::Data<Store>,
            issuer: web::Data<Issuer>,
            body: web::Json<EnterRunning>,
        ) -> Result<HttpResponse> {
            let context = store.start(token.id, &body)?;
            let mut response = HttpResponse::Ok();
            if token.token_type() == TokenType::WORKLOAD {
                // The execution token continues the workload token's
                // chain (its id and start), so revoking either revokes
                // both, and the session's age counts from the queue.
                match issuer.reissue(&token.claims, TokenType::EXECUTION) {
                    Ok(execution_token) => {
                        response.insert_header((REFRESHED_TOKEN_HEADER, execution_token));
                    }
                    // Only a broken key fails here. The task is running but
                    // could not call back with a workload token, so say so.
                    Err(err) => {
                        tracing::error!(ti = %token.id, error = %err, "could not issue an execution token");
                        return Ok(HttpResponse::InternalServerError()
                            .json(json!({"detail": "could not issue an execution token"})));
                    }
                }
            }
            Ok(response.json(context))
        }

        /// Ends or pauses a run: success, failed, skipped, removed,
        /// upstream_failed, up_for_retry, deferred, up_for_reschedule or
        /// awaiting_input. 204, or 200 when the task instance was
        /// already in that state (a retried request). The body is read
        /// as the client's API version defines it (`versions::Body`).
        #[route(
            patch,
            "/<task_instance_id>/state",
            request = StateUpdate,
            responses(200, 204, 404 = ErrorBody, 409 = ErrorBody)
        )]
        pub async fn state(
            token: TiToken,
            store: web::Data<Store>,
            body: Body<StateUpdate>,
        ) -> Result<HttpResponse> {
            Ok(match store.update_state(token.id, &body)? {
                StateChange::Updated => no_content(),
                StateChange::Unchanged => HttpResponse::Ok().finish(),
            })
        }

        /// Skips tasks downstream of this one (a short-circuit or
        /// branch): 204.
        #[route(patch, "/<task_instance_id>/skip-downstream", responses(204, 404 = ErrorBody))]
        pub async fn skip_downstream(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<SkipDownstream>,
        ) -> Result<HttpResponse> {
            store.skip_downstream(token.id, &body.tasks)?;
            Ok(no_content())
        }

        /// "Still alive": 204 while running on the host and process that
        /// started it, 409 otherwise (the worker should then stop the
        /// task).
        #[route(
            put,
            "/<task_instance_id>/heartbeat",
            responses(204, 404 = ErrorBody, 409 = ErrorBody)
        )]
        pub async fn heartbeat(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<Heartbeat>,
        ) -> Result<HttpResponse> {
            store.heartbeat(token.id, &body)?;
            Ok(no_content())
        }

        /// The task's rendered template fields: 201.
        #[route(
            put,
            "/<task_instance_id>/rtif",
            responses(201 = Message, 404 = ErrorBody)
        )]
        pub async fn rtif(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<RenderedFields>,
        ) -> Result<HttpResponse> {
            store.set_rendered_fields(token.id, body.into_inner().0)?;
            Ok(HttpResponse::Created().json(Message::new(
                "Rendered task instance fields successfully set",
            )))
        }

        /// A mapped task instance's label (a JSON string): 204.
        #[route(
            patch,
            "/<task_instance_id>/rendered-map-index",
            responses(204, 404 = ErrorBody)
        )]
        pub async fn rendered_map_index(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<String>,
        ) -> Result<HttpResponse> {
            store.set_rendered_map_index(token.id, body.into_inner())?;
            Ok(no_content())
        }

        /// The previous successful run of the DAG, for the template
        /// context (all `null` when none).
        #[route(
            get,
            "/<task_instance_id>/previous-successful-dagrun",
            responses(200 = PrevSuccessfulDagRun)
        )]
        pub async fn previous_successful_dagrun(
            token: TiToken,
            store: web::Data<Store>,
        ) -> HttpResponse {
            HttpResponse::Ok().json(store.previous_successful_dag_run(token.id))
        }

        /// Inlets and outlets that are not active assets.
        #[route(
            get,
            "/<task_instance_id>/validate-inlets-and-outlets",
            responses(200 = InactiveAssets, 404 = ErrorBody)
        )]
        pub async fn validate_inlets_and_outlets(
            token: TiToken,
            store: web::Data<Store>,
        ) -> Result<HttpResponse> {
            let inactive: InactiveAssets = store.validate_inlets_and_outlets(token.id)?;
            Ok(HttpResponse::Ok().json(inactive))
        }
    }
}
