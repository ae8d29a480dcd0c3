//! The newest ACTIVE revision of every task definition family of a region, from one sweep of
//! ListTaskDefinitions (100 ARNs a call, newest first), instead of a DescribeTaskDefinition per
//! family per resync.
//!
//! A steady EcsTaskDefinition only needs to know that the newest ACTIVE revision of its family is
//! still the one it registered (nobody registered or deregistered one behind its back); one sweep
//! answers that for every family at once. Concurrent callers share one sweep.
//!
//! A sweep lists every ACTIVE revision of the region, the operator's and everyone else's, so it
//! only pays when the operator manages many families there: it is used while it costs at most a
//! tenth of one call per family asking ([`SWEEP_MIN_FAMILIES`] of them at least), and otherwise
//! callers describe their family themselves (and the sweep is tried again later).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{SortOrder, TaskDefinitionStatus};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::Ecs;
use crate::Result;

/// Families below which a sweep never pays.
pub const SWEEP_MIN_FAMILIES: usize = 20;

/// The sweep of one region: when it ran, how many calls it took, and the newest ACTIVE revision
/// ARN of each family; and the families that asked lately.
#[derive(Default)]
struct Sweep {
    at: Option<Instant>,
    pages: usize,
    newest: HashMap<String, String>,
    asked: HashMap<String, Instant>,
}

#[derive(Clone, Default)]
pub struct RevisionSweeps {
    regions: Arc<std::sync::Mutex<HashMap<String, Arc<Mutex<Sweep>>>>>,
}

impl RevisionSweeps {
    /// The newest ACTIVE revision ARN of `family` in `region` (None: it has none), from a sweep
    /// at most `max_age` old; Ok(None) when a sweep does not pay (see the module doc).
    pub async fn newest(
        &self,
        ecs: &Ecs,
        region: &str,
        family: &str,
        max_age: Duration,
    ) -> Result<Option<Option<String>>> {
        let sweep = self
            .regions
            .lock()
            .expect("revision sweeps poisoned")
            .entry(region.to_string())
            .or_default()
            .clone();
        // Holding the region's lock through a sweep makes concurrent callers wait for it and
        // then read its result, instead of sweeping again.
        let mut sweep = sweep.lock().await;
        let now = Instant::now();
        sweep.asked.insert(family.to_string(), now);
        sweep
            .asked
            .retain(|_, at| now.duration_since(*at) <= max_age * 2);
        let families = sweep.asked.len();
        let stale = sweep.at.is_none_or(|at| at.elapsed() > max_age);
        let worth_trying_again = sweep.at.is_none_or(|at| at.elapsed() > max_age * 10);
        if families < SWEEP_MIN_FAMILIES || (sweep.pages * 10 > families && !worth_trying_again) {
            return Ok(None);
        }
        if stale {
            let (newest, pages) = newest_revisions(ecs, region).await?;
            (sweep.newest, sweep.pages, sweep.at) = (newest, pages, Some(Instant::now()));
            if pages * 10 > families {
                return Ok(None);
            }
        }
        Ok(Some(sweep.newest.get(family).cloned()))
    }

    /// Records a revision this operator just registered, or forgets a family it changed
    /// otherwise (`arn` None), so that the next look does not take its own change for drift.
    pub async fn record(&self, region: &str, family: &str, arn: Option<&str>) {
        let sweep = self
            .regions
            .lock()
            .expect("revision sweeps poisoned")
            .entry(region.to_string())
            .or_default()
            .clone();
        let mut sweep = sweep.lock().await;
        match arn {
            Some(arn) => {
                sweep.newest.insert(family.to_string(), arn.to_string());
            }
            // The next look sweeps again.
            None => sweep.at = None,
        }
    }
}

/// Every page of ListTaskDefinitions (ACTIVE, newest first): family -> newest revision ARN, and
/// how many calls that took.
async fn newest_revisions(ecs: &Ecs, region: &str) -> Result<(HashMap<String, String>, usize)> {
    let client = ecs.client(region);
    let mut newest = HashMap::new();
    let mut next_token = None;
    let mut pages = 0;
    loop {
        pages += 1;
        let request = client
            .list_task_definitions()
            .status(TaskDefinitionStatus::Active)
            .sort(SortOrder::Desc)
            .max_results(100)
            .set_next_token(next_token)
            .send();
        let page = ecs.call(region, "ListTaskDefinitions", request).await?;
        for arn in page.task_definition_arns() {
            if let Some(family) = family_of(arn) {
                newest
                    .entry(family.to_string())
                    .or_insert_with(|| arn.clone());
            }
        }
        next_token = page.next_token;
        if next_token.is_none() {
            return Ok((newest, pages));
        }
    }
}

/// The family of a task definition ARN (`...:task-definition/<family>:<revision>`).
pub fn family_of(arn: &str) -> Option<&str> {
    arn.rsplit_once("task-definition/")?
        .1
        .rsplit_once(':')
        .map(|(family, _)| family)
}

#[cfg(test)]
mod tests {
    use super::family_of;

    #[test]
    fn reads_the_family_of_an_arn() {
        assert_eq!(
            family_of("arn:aws:ecs:us-east-1:123456789012:task-definition/web-app:12"),
            Some("web-app")
        );
        assert_eq!(family_of("web:3"), None);
    }
}
