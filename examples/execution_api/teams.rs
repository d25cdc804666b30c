//! Multi-team mode (`serve --multi-team --dag-team DAG_ID=TEAM`): which team
//! each DAG belongs to, and Airflow's XCom guard, `has_xcom_access`
//! (`airflow/api_fastapi/execution_api/routes/xcoms.py` in Airflow 3.3.2),
//! as a scopegate guard on the XCom routes.
//!
//! A task's team is its DAG's team; a DAG without one is global. In
//! multi-team mode a task reaches the XComs of a DAG of its own team (a
//! teamless task on a global DAG included: `None == None`); a read (`GET`,
//! `HEAD`, and `OPTIONS`, as Airflow counts them) may also reach a global
//! DAG; nothing else, and never a write to a global DAG. Without
//! `--multi-team` the guard allows everything, as Airflow does.
//!
//! Only XComs are team-scoped here. Airflow also scopes Variables and
//! Connections by team; this example does not (they stay shared by every
//! task).

use std::collections::HashMap;
use std::str::FromStr;

use actix_web::http::Method;
use actix_web::{web, HttpRequest};
use scopegate::{guard, Deny, Token};
use serde_json::json;

use crate::state::Store;

/// The teams of multi-team mode, shared by every worker's app.
#[derive(Clone, Debug, Default)]
pub struct Teams {
    /// Off: the guard allows everything.
    enabled: bool,
    /// DAG id → its team; a DAG not listed is global.
    dags: HashMap<String, String>,
}

impl Teams {
    /// Multi-team mode with these DAG teams (`--multi-team`).
    pub fn multi_team(dags: impl IntoIterator<Item = DagTeam>) -> Teams {
        Teams {
            enabled: true,
            dags: dags.into_iter().map(|d| (d.dag_id, d.team)).collect(),
        }
    }

    /// Whether multi-team mode is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The team of `dag_id`; `None` for a global DAG.
    pub fn team_of(&self, dag_id: &str) -> Option<&str> {
        self.dags.get(dag_id).map(String::as_str)
    }
}

/// One `--dag-team DAG_ID=TEAM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DagTeam {
    /// The DAG.
    pub dag_id: String,
    /// Its team.
    pub team: String,
}

impl FromStr for DagTeam {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((dag_id, team)) if !dag_id.is_empty() && !team.is_empty() => Ok(DagTeam {
                dag_id: dag_id.to_owned(),
                team: team.to_owned(),
            }),
            _ => Err(format!(
                "`{s}` is not DAG_ID=TEAM: write e.g. `--dag-team etl=analytics`"
            )),
        }
    }
}

/// Airflow's exact rule: the same team (a teamless task on a global DAG
/// included), or a read of a global DAG.
pub fn may_access(requester: Option<&str>, target: Option<&str>, method: &Method) -> bool {
    let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    requester == target || (!write && target.is_none())
}

/// `has_xcom_access`: in multi-team mode, the requesting task (the token's
/// task instance) may reach the XComs of `<dag_id>` only by Airflow's rule;
/// otherwise 403 with Airflow's body. A token whose task instance the
/// server does not know is teamless, as in Airflow.
#[guard(params = ["dag_id"])]
pub async fn has_xcom_access(req: &HttpRequest, token: &Token) -> Result<(), Deny> {
    let Some(teams) = req.app_data::<web::Data<Teams>>() else {
        return Ok(());
    };
    if !teams.enabled() {
        return Ok(());
    }
    let dag_id = scopegate::path_param(req, "dag_id").unwrap_or_default();
    let requester_dag = uuid::Uuid::try_parse(token.sub())
        .ok()
        .and_then(|id| req.app_data::<web::Data<Store>>()?.dag_of(id));
    let requester = requester_dag.as_deref().and_then(|dag| teams.team_of(dag));
    let target = teams.team_of(&dag_id);
    if may_access(requester, target, req.method()) {
        return Ok(());
    }
    Err(Deny::forbidden(json!({
        "reason": "access_denied",
        "message": "Task does not have access to this XCom in multi-team mode",
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airflows_rule() {
        let (get, head, post, delete) = (Method::GET, Method::HEAD, Method::POST, Method::DELETE);
        // Same team, global included.
        for m in [&get, &post, &delete] {
            assert!(may_access(Some("a"), Some("a"), m));
            assert!(may_access(None, None, m));
        }
        // A read may reach a global DAG; a write may not.
        assert!(may_access(Some("a"), None, &get));
        assert!(may_access(Some("a"), None, &head));
        assert!(!may_access(Some("a"), None, &post));
        assert!(!may_access(Some("a"), None, &delete));
        // Another team, or a team DAG from a global task: never.
        for m in [&get, &post] {
            assert!(!may_access(Some("a"), Some("b"), m));
            assert!(!may_access(None, Some("b"), m));
        }
        assert!("etl=analytics".parse::<DagTeam>().is_ok());
        assert!("etl".parse::<DagTeam>().is_err());
        assert!("=x".parse::<DagTeam>().is_err());
    }
}
