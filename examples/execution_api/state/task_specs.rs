//! How work is named on the command line: `--queue-task DAG/RUN/TASK[/MAP]`
//! ([`TaskSpec`]) and `--task-retries TASK=N` ([`TaskRetries`]), checked as
//! Airflow checks its ids.

/// Airflow's `ID_LEN`: the longest DAG, run or task id.
const ID_LEN: usize = 250;

/// The largest map index `--queue-task` takes: Airflow's
/// `[core] max_map_length` default is 1024, so indexes run to 1023.
pub const MAX_MAP_INDEX: i64 = 1023;

/// A task to queue, written `DAG_ID/RUN_ID/TASK_ID[/MAP_INDEX]` on the
/// command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The DAG.
    pub dag_id: String,
    /// The run (created if new).
    pub run_id: String,
    /// The task.
    pub task_id: String,
    /// Which instance of a mapped task; -1 (Airflow's) for a task that is
    /// not mapped.
    pub map_index: i64,
    /// How many times the task is retried (its `retries` in the DAG file):
    /// the instance's `max_tries`, so that `/run` tells the worker whether
    /// a failing try may be retried. 0 unless `--task-retries` says.
    pub retries: u32,
}

impl std::str::FromStr for TaskSpec {
    type Err = String;

    /// Parses `DAG_ID/RUN_ID/TASK_ID` or `DAG_ID/RUN_ID/TASK_ID/MAP_INDEX`.
    /// DAG and task ids use Airflow's characters (letters, digits, `_`,
    /// `.`, `-`); run ids those of its default `allowed_run_id_pattern`
    /// (also `~`, `:`, `+`), so none holds a `/`. A map index is 0 to
    /// [`MAX_MAP_INDEX`]; without one the task is not mapped (-1).
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let (dag_id, run_id, task_id, map_index) = match parts[..] {
            [dag_id, run_id, task_id] => (dag_id, run_id, task_id, -1),
            [dag_id, run_id, task_id, index] => {
                let index = index
                    .parse::<i64>()
                    .ok()
                    .filter(|i| (0..=MAX_MAP_INDEX).contains(i))
                    .ok_or_else(|| {
                        format!(
                            "{s:?}: the map index {index:?} must be a number from 0 to \
                             {MAX_MAP_INDEX}; leave it out for a task that is not mapped"
                        )
                    })?;
                (dag_id, run_id, task_id, index)
            }
            _ => {
                return Err(format!(
                    "{s:?}: write DAG_ID/RUN_ID/TASK_ID, or DAG_ID/RUN_ID/TASK_ID/MAP_INDEX for \
                     one instance of a mapped task, e.g. etl/manual__2026-01-01/extract or \
                     etl/manual__2026-01-01/double/0"
                ))
            }
        };
        let id_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        let run_char = |c: char| id_char(c) || matches!(c, '~' | ':' | '+');
        for (what, value, allowed, chars) in [
            (
                "DAG id",
                dag_id,
                &id_char as &dyn Fn(char) -> bool,
                "letters, digits, _ . -",
            ),
            ("run id", run_id, &run_char, "letters, digits, _ . - ~ : +"),
            ("task id", task_id, &id_char, "letters, digits, _ . -"),
        ] {
            if value.is_empty() || value.len() > ID_LEN || !value.chars().all(allowed) {
                return Err(format!(
                    "{s:?}: the {what} {value:?} must be 1 to {ID_LEN} of: {chars}"
                ));
            }
        }
        Ok(TaskSpec {
            dag_id: dag_id.to_owned(),
            run_id: run_id.to_owned(),
            task_id: task_id.to_owned(),
            map_index,
            retries: 0,
        })
    }
}

/// The most retries `--task-retries` takes: a bound on a command-line
/// number, far above any DAG's.
pub const MAX_RETRIES: u32 = 1000;

/// `--task-retries TASK_ID=N`: the `retries` a task's DAG file declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRetries {
    /// The task, in every DAG and run queued.
    pub task_id: String,
    /// Its retries.
    pub retries: u32,
}

impl std::str::FromStr for TaskRetries {
    type Err = String;

    /// Parses `TASK_ID=N`, N from 0 to [`MAX_RETRIES`].
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("{s:?}: write TASK_ID=N, e.g. flaky=2");
        let (task_id, n) = s.split_once('=').ok_or_else(usage)?;
        let id_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if task_id.is_empty() || task_id.len() > ID_LEN || !task_id.chars().all(id_char) {
            return Err(format!(
                "{s:?}: the task id {task_id:?} must be 1 to {ID_LEN} of: letters, digits, _ . -"
            ));
        }
        let retries = n
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_RETRIES)
            .ok_or_else(|| {
                format!("{s:?}: the retries {n:?} must be a number from 0 to {MAX_RETRIES}")
            })?;
        Ok(TaskRetries {
            task_id: task_id.to_owned(),
            retries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> TaskSpec {
        s.parse().unwrap()
    }

    #[test]
    fn task_specs_are_three_airflow_ids() {
        let t = spec("etl/scheduled__2026-01-01T00:00:00+00:00/load.part-1");
        assert_eq!(t.dag_id, "etl");
        assert_eq!(t.run_id, "scheduled__2026-01-01T00:00:00+00:00");
        assert_eq!(t.task_id, "load.part-1");
        for bad in [
            "etl/run",
            "etl/run/task/x",
            "/run/task",
            "etl//task",
            "e tl/r/t",
            "etl/r/t:1",
        ] {
            let err = bad.parse::<TaskSpec>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn a_fourth_part_is_the_map_index_of_a_mapped_task() {
        assert_eq!(spec("etl/r/extract").map_index, -1);
        let t = spec("etl/r/double/2");
        assert_eq!((t.task_id.as_str(), t.map_index), ("double", 2));
        assert_eq!(spec("etl/r/double/1023").map_index, 1023);
        for bad in [
            "etl/r/double/-1",
            "etl/r/double/1024",
            "etl/r/double/x",
            "etl/r/double/",
            "etl/r/double/1/2",
        ] {
            let err = bad.parse::<TaskSpec>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
        assert!("etl/r/double/x"
            .parse::<TaskSpec>()
            .unwrap_err()
            .contains("map index"));
    }

    #[test]
    fn task_retries_are_a_task_id_and_a_number() {
        let r: TaskRetries = "flaky=2".parse().unwrap();
        assert_eq!((r.task_id.as_str(), r.retries), ("flaky", 2));
        for bad in [
            "flaky",
            "flaky=",
            "=2",
            "flaky=-1",
            "flaky=x",
            "fl aky=1",
            "flaky=1001",
        ] {
            let err = bad.parse::<TaskRetries>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }
}
