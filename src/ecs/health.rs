//! Whether ECS answers, per region: a hung or unreachable ECS must show on every object quickly
//! and must not hold the operator's workers.
//!
//! Once a call has waited longer than [`SUSPECT_AFTER`] without an answer, or the last call failed
//! to reach ECS at all (a timeout, a refused or reset connection), the region is suspect: one call
//! at a time goes out as a probe, and every other call fails at once with the same stable error
//! the probe would give, so that its reconcile reports it and frees its worker. The first answer
//! from ECS (any answer, an error included) clears it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::error::EcsErrorClass;

/// How long a call may go unanswered before the region is suspect.
pub const SUSPECT_AFTER: Duration = Duration::from_secs(5);

/// The message of a call that went unanswered (as `errors::to_error` words a timeout).
const NO_ANSWER: &str = "no answer from ECS within the timeout";

#[derive(Default)]
struct Region {
    next_id: u64,
    /// Calls under way, by id, with when they started.
    in_flight: HashMap<u64, Instant>,
    /// The code and message of the last call that could not reach ECS.
    unreachable: Option<(String, String)>,
    /// The one call let through while the region is suspect.
    probe: Option<u64>,
}

#[derive(Clone, Default)]
pub struct RegionHealth {
    regions: Arc<Mutex<HashMap<String, Region>>>,
}

/// A call let through; reports its outcome when done (or dropped, when its reconcile was cancelled).
pub struct Admitted {
    health: RegionHealth,
    region: String,
    id: u64,
    /// Some((code, message)) when the call could not reach ECS; None when ECS answered.
    outcome: Option<Option<(String, String)>>,
}

impl RegionHealth {
    /// Lets a call of `operation` in `region` go out, or fails it at once while the region is
    /// suspect and a probe is already out.
    pub fn admit(&self, region: &str, operation: &'static str) -> Result<Admitted, Error> {
        let mut regions = self.regions.lock().expect("region health poisoned");
        let state = regions.entry(region.to_string()).or_default();
        let now = Instant::now();
        let stuck = state
            .in_flight
            .values()
            .any(|started| now.duration_since(*started) > SUSPECT_AFTER);
        state.next_id += 1;
        let id = state.next_id;
        if stuck || state.unreachable.is_some() {
            if state
                .probe
                .is_some_and(|probe| state.in_flight.contains_key(&probe))
            {
                let (code, message) = state
                    .unreachable
                    .clone()
                    .unwrap_or_else(|| ("Timeout".into(), NO_ANSWER.into()));
                return Err(Error::Ecs {
                    operation,
                    code,
                    message,
                    class: EcsErrorClass::Transient,
                });
            }
            state.probe = Some(id);
        }
        state.in_flight.insert(id, now);
        Ok(Admitted {
            health: self.clone(),
            region: region.to_string(),
            id,
            outcome: None,
        })
    }
}

impl Admitted {
    /// Records how the call ended: ECS answered (with success or any error of its own), or it
    /// could not be reached (`unreachable`: the error's code and message).
    pub fn finish(mut self, unreachable: Option<(String, String)>) {
        self.outcome = Some(unreachable);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut regions = self.health.regions.lock().expect("region health poisoned");
        let Some(state) = regions.get_mut(&self.region) else {
            return;
        };
        state.in_flight.remove(&self.id);
        if state.probe == Some(self.id) {
            state.probe = None;
        }
        match self.outcome.take() {
            Some(None) => state.unreachable = None,
            Some(Some(error)) => state.unreachable = Some(error),
            // Cancelled before an answer: nothing learnt.
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_unanswered_too_long_makes_the_others_fail_at_once_but_one_probe() {
        let health = RegionHealth::default();
        let hung = health.admit("us-east-1", "DescribeServices").unwrap();
        tokio::time::advance(SUSPECT_AFTER + Duration::from_millis(1)).await;
        // The first call after that is the probe; the next ones fail at once, with the words of
        // a timeout.
        let probe = health.admit("us-east-1", "DescribeServices").unwrap();
        let Err(Error::Ecs { code, message, .. }) = health.admit("us-east-1", "UpdateService")
        else {
            panic!("a call beside the probe fails at once")
        };
        assert_eq!((code.as_str(), message.as_str()), ("Timeout", NO_ANSWER));
        // Another region is not affected.
        assert!(health.admit("eu-west-1", "DescribeServices").is_ok());
        // ECS answers the probe: everything goes through again.
        probe.finish(None);
        drop(hung);
        assert!(health.admit("us-east-1", "DescribeServices").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_ecs_is_probed_one_call_at_a_time_with_its_own_error() {
        let health = RegionHealth::default();
        let call = health.admit("us-east-1", "DescribeClusters").unwrap();
        let refused = (
            "DispatchFailure".to_string(),
            "could not reach the ECS endpoint (connection refused)".to_string(),
        );
        call.finish(Some(refused.clone()));
        let probe = health.admit("us-east-1", "DescribeClusters").unwrap();
        let Err(Error::Ecs { code, message, .. }) = health.admit("us-east-1", "DescribeClusters")
        else {
            panic!("fails at once while the probe is out")
        };
        assert_eq!((code, message), refused);
        // A probe that is cancelled (its reconcile dropped) lets the next call probe.
        drop(probe);
        assert!(health.admit("us-east-1", "DescribeClusters").is_ok());
    }
}
