//! The queries about a DAG's task instances that any execution token may
//! make (`/task-instances/count`, `/states`, `/previous`, `/breadcrumbs`),
//! apart from the life cycle of one task instance in `task_instances.rs`.

use super::*;

impl Store {
    /// `GET /task-instances/count`.
    pub fn count_task_instances(&self, dag_id: &str, filter: &TiFilter) -> Result<usize, Refusal> {
        let inner = self.lock();
        let mut tis: Vec<&TaskInstance> = inner.filter_tis(dag_id, filter, true).collect();
        if let Some(group) = &filter.task_group_id {
            let pairs: Vec<(String, i64)> = inner
                .group_tasks(dag_id, group, filter)?
                .map(|ti| (ti.task_id.clone(), ti.map_index))
                .collect();
            tis.retain(|ti| pairs.contains(&(ti.task_id.clone(), ti.map_index)));
        }
        if !filter.states.is_empty() {
            tis.retain(|ti| {
                let name = ti.state.map_or("null", TiState::as_str);
                filter.states.iter().any(|s| s == name)
            });
        }
        Ok(tis.len())
    }

    /// `GET /task-instances/states`: run id → task → state.
    pub fn task_states(&self, dag_id: &str, filter: &TiFilter) -> Result<TaskStates, Refusal> {
        let inner = self.lock();
        let mut tis: Vec<&TaskInstance> = inner.filter_tis(dag_id, filter, true).collect();
        if let Some(group) = &filter.task_group_id {
            let group_tis = inner.group_tasks(dag_id, group, filter)?;
            if filter.task_ids.is_empty() {
                tis = group_tis.collect();
            } else {
                tis.extend(group_tis);
            }
        }
        let mut states = TaskStates::default();
        for ti in tis {
            states
                .task_states
                .entry(ti.run_id.clone())
                .or_default()
                .insert(ti.state_key(), ti.state);
        }
        Ok(states)
    }

    /// `GET /task-instances/previous/<dag_id>/<task_id>`: the task's
    /// instance in the latest run (before `logical_date`, if given; in
    /// `state`, if given); `None` when there is none.
    pub fn previous_task_instance(
        &self,
        dag_id: &str,
        task_id: &str,
        logical_date: Option<OffsetDateTime>,
        map_index: i64,
        state: Option<TiState>,
    ) -> Option<PreviousTi> {
        let inner = self.lock();
        inner
            .task_instances
            .values()
            .filter(|ti| ti.dag_id == dag_id && ti.task_id == task_id && ti.map_index == map_index)
            .filter(|ti| state.is_none() || ti.state == state)
            .filter_map(|ti| inner.run(&ti.dag_id, &ti.run_id).map(|run| (ti, run)))
            .filter(|(_, run)| {
                logical_date.is_none_or(|before| run.logical_date.is_some_and(|ld| ld < before))
            })
            // The latest logical date; runs without one come last.
            .max_by_key(|(_, run)| run.logical_date)
            .map(|(ti, run)| PreviousTi {
                task_id: ti.task_id.clone(),
                dag_id: ti.dag_id.clone(),
                run_id: ti.run_id.clone(),
                logical_date: run.logical_date,
                start_date: ti.start_date,
                end_date: ti.end_date,
                state: ti.state,
                try_number: ti.try_number,
                map_index: ti.map_index,
                duration: ti.duration(),
            })
    }

    /// `GET /task-instances/breadcrumbs`: the finished task instances of a
    /// run, by task id and map index.
    pub fn breadcrumbs(&self, dag_id: &str, run_id: &str) -> Breadcrumbs {
        let inner = self.lock();
        let mut rows: Vec<&TaskInstance> = inner
            .task_instances
            .values()
            .filter(|ti| ti.dag_id == dag_id && ti.run_id == run_id)
            .filter(|ti| ti.state.is_some_and(TiState::is_terminal))
            .collect();
        rows.sort_by(|a, b| (&a.task_id, a.map_index).cmp(&(&b.task_id, b.map_index)));
        Breadcrumbs {
            breadcrumbs: rows
                .into_iter()
                .map(|ti| Breadcrumb {
                    task_id: ti.task_id.clone(),
                    map_index: ti.map_index,
                    state: ti.state,
                    operator: None,
                    duration: ti.duration(),
                })
                .collect(),
        }
    }
}

impl Inner {
    /// The task instances of `dag_id` matching the filter's task ids,
    /// logical dates, run ids and map index.
    fn filter_tis<'a>(
        &'a self,
        dag_id: &'a str,
        filter: &'a TiFilter,
        by_task_ids: bool,
    ) -> impl Iterator<Item = &'a TaskInstance> + 'a {
        self.task_instances.values().filter(move |ti| {
            ti.dag_id == dag_id
                && (!by_task_ids
                    || filter.task_ids.is_empty()
                    || filter.task_ids.contains(&ti.task_id))
                && filter.map_index.is_none_or(|m| ti.map_index == m)
                && (filter.run_ids.is_empty() || filter.run_ids.contains(&ti.run_id))
                && (filter.logical_dates.is_empty()
                    || self
                        .run(&ti.dag_id, &ti.run_id)
                        .and_then(|run| run.logical_date)
                        .is_some_and(|ld| filter.logical_dates.contains(&ld)))
        })
    }

    /// The task instances of a task group (see [`TiFilter::task_group_id`]),
    /// or Airflow's 404s for an unknown DAG or group.
    fn group_tasks<'a>(
        &'a self,
        dag_id: &'a str,
        group: &'a str,
        filter: &'a TiFilter,
    ) -> Result<impl Iterator<Item = &'a TaskInstance> + 'a, Refusal> {
        if !self.dags.contains_key(dag_id) {
            return Err(Refusal::NotFound(format!(
                "The Dag with ID: `{dag_id}` was not found"
            )));
        }
        let prefix = format!("{group}.");
        let known = self
            .task_instances
            .values()
            .any(|ti| ti.dag_id == dag_id && ti.task_id.starts_with(&prefix));
        if !known {
            return Err(Refusal::NotFound(format!(
                "Task group {group} not found in DAG {dag_id}"
            )));
        }
        Ok(self
            .filter_tis(dag_id, filter, false)
            .filter(move |ti| ti.task_id.starts_with(&prefix)))
    }
}
