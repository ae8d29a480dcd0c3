//! Ready, Reconciling and Stalled, computed from where an object stands (kstatus semantics:
//! Reconciling=True reads as InProgress, Stalled=True as Failed).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

/// Where an object stands after a reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// The ECS object matches the spec (and, for services, the rollout completed).
    Ready { message: String },
    /// Work is under way or waiting on something that will come by itself
    /// (Creating, Updating, DeploymentInProgress, DependencyNotReady, Deleting).
    Progressing { reason: String, message: String },
    /// Retrying cannot help without a change (InvalidSpec, OwnershipConflict, AccessDenied,
    /// DeploymentFailed).
    Stalled { reason: String, message: String },
    /// A transient failure (throttling, 5xx, network): retried with backoff.
    Retrying { reason: String, message: String },
    /// A transient failure of the check of an object that was Ready for this generation: it
    /// stays Ready (ECS keeps running what it runs while its API fails), and the message says
    /// that the last check failed. See [`tolerate`].
    CheckFailed { reason: String, message: String },
}

impl Health {
    /// The state label of `ecs_operator_objects`.
    pub fn state(&self) -> &'static str {
        match self {
            Health::Ready { .. } => "ready",
            Health::Progressing { .. } => "progressing",
            Health::Retrying { .. } | Health::CheckFailed { .. } => "retrying",
            Health::Stalled { .. } => "stalled",
        }
    }

    pub fn progressing(reason: &str, message: impl Into<String>) -> Self {
        Health::Progressing {
            reason: reason.into(),
            message: message.into(),
        }
    }

    pub fn stalled(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Health::Stalled {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// The first visit, before anything is known.
    pub fn unknown() -> [(&'static str, &'static str, &'static str, &'static str); 3] {
        [
            (
                READY,
                "Unknown",
                "Reconciling",
                "the operator has not reconciled this generation yet",
            ),
            (
                RECONCILING,
                "True",
                "Reconciling",
                "the operator has picked this object up",
            ),
            (STALLED, "False", "Reconciling", ""),
        ]
    }

    fn triple(&self) -> [(&'static str, &'static str, &str, &str); 3] {
        match self {
            Health::Ready { message } => [
                (READY, "True", "Ready", message),
                (RECONCILING, "False", "Ready", ""),
                (STALLED, "False", "Ready", ""),
            ],
            Health::Progressing { reason, message } | Health::Retrying { reason, message } => [
                (READY, "False", reason, message),
                (RECONCILING, "True", reason, message),
                (STALLED, "False", reason, ""),
            ],
            Health::Stalled { reason, message } => [
                (READY, "False", reason, message),
                (RECONCILING, "False", reason, ""),
                (STALLED, "True", reason, message),
            ],
            Health::CheckFailed { message, .. } => [
                (READY, "True", "Ready", message),
                (RECONCILING, "False", "Ready", ""),
                (STALLED, "False", "Ready", ""),
            ],
        }
    }

    /// The three conditions for `generation`, keeping each one's lastTransitionTime when its
    /// status did not change, so that writing status is idempotent.
    pub fn conditions(
        &self,
        generation: Option<i64>,
        previous: &[Condition],
        now: Timestamp,
    ) -> Vec<Condition> {
        build(
            self.triple().iter().map(|(t, s, r, m)| (*t, *s, *r, *m)),
            generation,
            previous,
            now,
        )
    }
}

/// Consecutive failed checks a Ready object stays Ready through (with the backoff, about two
/// and a half minutes of failing); the next one turns it to Ready=False.
pub const TOLERATED_FAILURES: u32 = 4;

/// What a failed check's message adds to the Ready message it keeps.
const LAST_CHECK_FAILED: &str = "; the last check failed: ";

/// A transient failure (`Retrying`) of an object that is Ready for `generation` and has failed
/// fewer than [`TOLERATED_FAILURES`] times in a row before: it stays Ready, its message
/// followed by the failure (so that a flaky or hung ECS shows on every object, while GitOps tools
/// do not see the object flap). Any other health is returned as it is.
pub fn tolerate(
    health: Health,
    previous: &[Condition],
    generation: Option<i64>,
    failures_before: u32,
) -> Health {
    let Health::Retrying { reason, message } = health else {
        return health;
    };
    let ready = find(previous, READY).filter(|c| {
        c.status == "True" && (generation.is_none() || c.observed_generation == generation)
    });
    match ready {
        Some(ready) if failures_before < TOLERATED_FAILURES => {
            let kept = ready
                .message
                .split(LAST_CHECK_FAILED)
                .next()
                .unwrap_or_default();
            Health::CheckFailed {
                reason,
                message: format!("{kept}{LAST_CHECK_FAILED}{message}"),
            }
        }
        _ => Health::Retrying { reason, message },
    }
}

/// Conditions for the first visit (Ready=Unknown), so `kubectl wait` and kstatus see the object
/// being worked on at once.
pub fn initial_conditions(
    generation: Option<i64>,
    previous: &[Condition],
    now: Timestamp,
) -> Vec<Condition> {
    build(Health::unknown().into_iter(), generation, previous, now)
}

fn build<'a>(
    wanted: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a str)>,
    generation: Option<i64>,
    previous: &[Condition],
    now: Timestamp,
) -> Vec<Condition> {
    wanted
        .map(|(type_, status, reason, message)| {
            let last_transition_time = previous
                .iter()
                .find(|c| c.type_ == type_ && c.status == status)
                .map_or(Time(now), |c| c.last_transition_time.clone());
            Condition {
                type_: type_.to_string(),
                status: status.to_string(),
                reason: camel_case_reason(reason),
                message: truncate(message, 1024),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect()
}

/// metav1.Condition requires a reason matching `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`; AWS
/// error codes already fit, anything else is reduced to fit.
fn camel_case_reason(reason: &str) -> String {
    let cleaned: String = reason
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match cleaned.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => cleaned,
        _ => "Unknown".into(),
    }
}

fn truncate(message: &str, max: usize) -> String {
    if message.len() <= max {
        return message.to_string();
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn status_of(conditions: &[Condition], t: &str) -> String {
        find(conditions, t).unwrap().status.clone()
    }

    fn throttled() -> Health {
        Health::Retrying {
            reason: "Throttling".into(),
            message:
                "ECS DescribeServices failed: ECS throttled the request (Rate exceeded); retrying"
                    .into(),
        }
    }

    #[test]
    fn a_ready_object_stays_ready_through_a_few_failed_checks_and_says_so() {
        let ready = Health::Ready {
            message: "ECS service web reached a steady state".into(),
        }
        .conditions(Some(3), &[], at(0));
        let first = tolerate(throttled(), &ready, Some(3), 0);
        let Health::CheckFailed { ref message, .. } = first else {
            panic!("{first:?}")
        };
        assert_eq!(
            message,
            "ECS service web reached a steady state; the last check failed: ECS DescribeServices \
             failed: ECS throttled the request (Rate exceeded); retrying"
        );
        let conditions = first.conditions(Some(3), &ready, at(10));
        assert_eq!(status_of(&conditions, READY), "True");
        assert_eq!(status_of(&conditions, RECONCILING), "False");
        // A second failure does not stack its words on the first's.
        let second = tolerate(throttled(), &conditions, Some(3), 1);
        let Health::CheckFailed { message: again, .. } = second else {
            panic!("{second:?}")
        };
        assert_eq!(&again, message);
        // Failing on and on: Ready=False.
        assert_eq!(
            tolerate(throttled(), &conditions, Some(3), TOLERATED_FAILURES),
            throttled()
        );
    }

    #[test]
    fn a_failure_of_an_object_not_ready_for_this_generation_is_not_tolerated() {
        let ready_before = Health::Ready {
            message: "ECS service web reached a steady state".into(),
        }
        .conditions(Some(2), &[], at(0));
        assert_eq!(
            tolerate(throttled(), &ready_before, Some(3), 0),
            throttled()
        );
        let progressing = Health::progressing("DeploymentInProgress", "rolling out").conditions(
            Some(3),
            &[],
            at(0),
        );
        assert_eq!(tolerate(throttled(), &progressing, Some(3), 0), throttled());
        // Stalled is never softened.
        let stalled = Health::stalled("InvalidSpec", "bad");
        let ready = Health::Ready {
            message: "ok".into(),
        }
        .conditions(Some(3), &[], at(0));
        assert_eq!(tolerate(stalled.clone(), &ready, Some(3), 0), stalled);
    }

    #[test]
    fn ready_clears_reconciling_and_stalled() {
        let c = Health::Ready {
            message: "ok".into(),
        }
        .conditions(Some(3), &[], at(10));
        assert_eq!(status_of(&c, READY), "True");
        assert_eq!(status_of(&c, RECONCILING), "False");
        assert_eq!(status_of(&c, STALLED), "False");
        assert!(c.iter().all(|c| c.observed_generation == Some(3)));
    }

    #[test]
    fn stalled_is_not_reconciling() {
        let c = Health::stalled("InvalidParameterException", "bad cpu").conditions(
            Some(1),
            &[],
            at(10),
        );
        assert_eq!(status_of(&c, READY), "False");
        assert_eq!(find(&c, READY).unwrap().reason, "InvalidParameterException");
        assert_eq!(status_of(&c, RECONCILING), "False");
        assert_eq!(status_of(&c, STALLED), "True");
        assert_eq!(find(&c, STALLED).unwrap().message, "bad cpu");
    }

    #[test]
    fn progressing_is_reconciling() {
        let c = Health::progressing("DependencyNotReady", "waiting").conditions(None, &[], at(10));
        assert_eq!(status_of(&c, READY), "False");
        assert_eq!(status_of(&c, RECONCILING), "True");
        assert_eq!(status_of(&c, STALLED), "False");
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let first = Health::progressing("Creating", "creating").conditions(Some(1), &[], at(10));
        let same = Health::progressing("Updating", "updating").conditions(Some(1), &first, at(20));
        assert_eq!(
            find(&same, READY).unwrap().last_transition_time,
            Time(at(10))
        );
        let ready = Health::Ready {
            message: String::new(),
        }
        .conditions(Some(1), &same, at(30));
        assert_eq!(
            find(&ready, READY).unwrap().last_transition_time,
            Time(at(30))
        );
        assert_eq!(
            find(&ready, STALLED).unwrap().last_transition_time,
            Time(at(10))
        );
    }

    #[test]
    fn initial_conditions_are_unknown() {
        let c = initial_conditions(Some(1), &[], at(1));
        assert_eq!(status_of(&c, READY), "Unknown");
        assert_eq!(status_of(&c, RECONCILING), "True");
    }

    #[test]
    fn reasons_are_made_valid() {
        assert_eq!(
            camel_case_reason("Service Unavailable"),
            "ServiceUnavailable"
        );
        assert_eq!(camel_case_reason("503"), "Unknown");
        assert_eq!(camel_case_reason(""), "Unknown");
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let long = "é".repeat(2000);
        let cut = truncate(&long, 1024);
        assert!(cut.len() <= 1024 + '…'.len_utf8());
    }
}
