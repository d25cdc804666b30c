//! The router of Airflow's `routes/connection_tests.py`, in a file of its own
//! as Airflow lays it out: the group `connection_tests`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/connection_tests.py`: connection tests run by a worker on
/// behalf of the UI. Only the workload token made for that test
/// (`ct:self`) may fetch its credentials and report its result.
#[routes(prefix = "/connection-tests", scopes = ["ct:self", "token:workload"], included)]
pub mod connection_tests {
    use super::*;

    /// The connection to test, handed out once.
    #[route(
        get,
        "/<connection_test_id>/connection",
        responses(200 = ConnectionResponse, 404 = ErrorBody, 409 = ErrorBody)
    )]
    pub async fn connection(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
        Ok(HttpResponse::Ok().json(store.fetch_connection_test(token.id)?))
    }

    /// The test's result: `success` or `failed`, once.
    #[route(patch, "/<connection_test_id>", responses(204, 404 = ErrorBody, 409 = ErrorBody))]
    pub async fn report(
        token: TiToken,
        store: web::Data<Store>,
        body: web::Json<ConnectionTestResult>,
    ) -> Result<HttpResponse> {
        check_body("state", body.validate())?;
        store.report_connection_test(token.id, &body)?;
        Ok(no_content())
    }
}
