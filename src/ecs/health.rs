//! Whether ECS answers, per region: a hung or unreachable ECS must show on every object quickly
//! and must not hold the operator's workers.
//!
//! A region is suspect while a call has waited longer than [`SUSPECT_AFTER`] with nothing at all
//! coming back from the region's ECS meanwhile (no response to any attempt of any call: a
//! throttle or a 5xx is an answer), and after a call ended without reaching ECS (a timeout, a
//! refused or reset connection) until the next answer. While suspect, one call at a time goes
//! out as a probe; every other call fails at once with the same stable error the probe would
//! give, and calls already waiting give up too (see [`Admitted::still_waiting`]), so that each
//! reconcile reports it and frees its worker. A slow or flaky ECS that still answers is not
//! suspect: its calls take their own time and retries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use tokio::time::Instant;

use crate::Error;
use crate::error::EcsErrorClass;

/// How long a call may go unanswered (with no answer from the region at all) before the region
/// is suspect.
pub const SUSPECT_AFTER: Duration = Duration::from_secs(5);

/// The message of a call that went unanswered (as `errors::to_error` words a timeout).
const NO_ANSWER: &str = "no answer from ECS within the timeout";

#[derive(Default)]
struct Region {
    next_id: u64,
    /// Calls under way, by id, with when they started.
    in_flight: HashMap<u64, Instant>,
    /// When a response last came back from the region's ECS (any attempt, any status).
    last_answer: Option<Instant>,
    /// The code and message of the last call that could not reach ECS, until the next answer.
    unreachable: Option<(String, String)>,
    /// The one call let through while the region is suspect.
    probe: Option<u64>,
}

impl Region {
    /// Whether a call has waited too long while nothing came back, or the last call could not
    /// reach ECS.
    fn suspect(&self, now: Instant) -> bool {
        self.unreachable.is_some()
            || self.in_flight.values().any(|started| {
                let since = self.last_answer.map_or(*started, |at| at.max(*started));
                now.duration_since(since) > SUSPECT_AFTER
            })
    }

    /// Whether a probe other than `id` is out.
    fn probe_out(&self, id: u64) -> bool {
        self.probe
            .is_some_and(|probe| probe != id && self.in_flight.contains_key(&probe))
    }

    /// The error of a call turned away while the region is suspect.
    fn refusal(&self, operation: &'static str) -> Error {
        let (code, message) = self
            .unreachable
            .clone()
            .unwrap_or_else(|| ("Timeout".into(), NO_ANSWER.into()));
        Error::Ecs {
            operation,
            code,
            message,
            class: EcsErrorClass::Transient,
        }
    }
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
    started: Instant,
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
        state.next_id += 1;
        let id = state.next_id;
        if state.suspect(now) {
            if state.probe_out(id) {
                return Err(state.refusal(operation));
            }
            state.probe = Some(id);
        }
        state.in_flight.insert(id, now);
        Ok(Admitted {
            health: self.clone(),
            region: region.to_string(),
            id,
            started: now,
            outcome: None,
        })
    }

    /// Records that a response came back from `region`'s ECS (called for every attempt, by
    /// [`AnswerSeen`]): the region answers.
    pub fn answered(&self, region: &str) {
        let mut regions = self.regions.lock().expect("region health poisoned");
        let state = regions.entry(region.to_string()).or_default();
        state.last_answer = Some(Instant::now());
        state.unreachable = None;
    }
}

/// An SDK interceptor telling [`RegionHealth`] of every response from a region's ECS, retried
/// attempts included (the SDK retries throttles and 5xx inside one call).
#[derive(Clone)]
pub struct AnswerSeen {
    pub health: RegionHealth,
    pub region: String,
}

impl std::fmt::Debug for AnswerSeen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerSeen")
            .field("region", &self.region)
            .finish()
    }
}

impl Intercept for AnswerSeen {
    fn name(&self) -> &'static str {
        "AnswerSeen"
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.health.answered(&self.region);
        Ok(())
    }
}

impl Admitted {
    /// Asked by a call still waiting after [`SUSPECT_AFTER`]: Ok to go on waiting (the region
    /// answers, or this call is its probe), or the error to give up with when the region is
    /// suspect and another call probes it.
    pub fn still_waiting(&self, operation: &'static str) -> Result<(), Error> {
        let mut regions = self.health.regions.lock().expect("region health poisoned");
        let Some(state) = regions.get_mut(&self.region) else {
            return Ok(());
        };
        if !state.suspect(Instant::now()) {
            return Ok(());
        }
        if state.probe_out(self.id) {
            return Err(state.refusal(operation));
        }
        state.probe = Some(self.id);
        Ok(())
    }

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
            // A failure to reach ECS counts only when nothing answered since the call went out
            // (one reset connection among answered calls is not an unreachable region).
            Some(Some(error)) if state.last_answer.is_none_or(|at| at < self.started) => {
                state.unreachable = Some(error);
            }
            Some(None) => state.unreachable = None,
            // Cancelled before an answer, or failed while others got answers: nothing learnt.
            _ => {}
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
    async fn a_slow_ecs_that_still_answers_is_not_suspect() {
        let health = RegionHealth::default();
        let slow = health.admit("us-east-1", "CreateService").unwrap();
        // The call is retried inside the SDK for longer than SUSPECT_AFTER, but responses keep
        // coming back (throttles, 5xx, other calls' answers).
        for _ in 0..4 {
            tokio::time::advance(Duration::from_secs(2)).await;
            health.answered("us-east-1");
        }
        let others: Vec<_> = (0..3)
            .map(|_| health.admit("us-east-1", "DescribeServices"))
            .collect();
        assert!(others.iter().all(Result::is_ok));
        drop(slow);
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
        let next = health.admit("us-east-1", "DescribeClusters").unwrap();
        // The next answer clears it.
        health.answered("us-east-1");
        assert!(health.admit("us-east-1", "DescribeClusters").is_ok());
        drop(next);
    }

    #[tokio::test(start_paused = true)]
    async fn one_failed_connection_among_answers_is_not_an_unreachable_region() {
        let health = RegionHealth::default();
        let reset = health.admit("us-east-1", "DescribeServices").unwrap();
        health.answered("us-east-1");
        reset.finish(Some(("DispatchFailure".into(), "connection reset".into())));
        assert!(health.admit("us-east-1", "DescribeServices").is_ok());
        assert!(health.admit("us-east-1", "DescribeServices").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn calls_already_waiting_give_up_once_the_region_is_suspect_but_the_probe() {
        let health = RegionHealth::default();
        let first = health.admit("us-east-1", "DescribeServices").unwrap();
        let second = health.admit("us-east-1", "ListTaskDefinitions").unwrap();
        tokio::time::advance(SUSPECT_AFTER + Duration::from_millis(1)).await;
        // The first to ask goes on as the probe; the other gives up, in a timeout's words.
        assert!(first.still_waiting("DescribeServices").is_ok());
        let Err(Error::Ecs { message, .. }) = second.still_waiting("ListTaskDefinitions") else {
            panic!("a second waiting call gives up")
        };
        assert_eq!(message, NO_ANSWER);
        // While the region answers, waiting calls wait on.
        health.answered("us-east-1");
        assert!(second.still_waiting("ListTaskDefinitions").is_ok());
    }
}
