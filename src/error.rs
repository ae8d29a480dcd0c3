//! The one error type of the operator. Each variant has a stable label, used as the metrics label
//! and as the reason of Warning events and conditions.

use std::time::Duration;

/// How an ECS error should be handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcsErrorClass {
    /// Throttling: retry with a long backoff.
    Throttled,
    /// 5xx, timeouts, connection problems: retry with backoff.
    Transient,
    /// The request was judged wrong (ClientException, InvalidParameterException, ...): retrying
    /// cannot help until the spec changes.
    Invalid,
    /// The credentials may not do this: retrying cannot help until IAM changes.
    AccessDenied,
    /// The object does not exist.
    NotFound,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API error: {0}")]
    Kube(#[source] kube::Error),

    /// A failed ECS call. `code` is the AWS error code, or the operator's stable CamelCase label
    /// where ECS gave none (`HttpError502` for a proxy's HTML page, `Timeout`, `DispatchFailure`,
    /// ...). `message` is one short line that is the same for the same failure on every attempt.
    /// Displayed as, for example, "ECS CreateService failed: HTTP 500 Internal Server Error;
    /// retrying" or "ECS RegisterTaskDefinition refused the request: ClientException: <ECS's
    /// message>": this text is the message of the Ready condition and of the Warning event.
    #[error("{}", ecs_sentence(.operation, .code, .message, *.class))]
    Ecs {
        operation: &'static str,
        code: String,
        message: String,
        class: EcsErrorClass,
    },

    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    #[error("ownership conflict: {0}")]
    OwnershipConflict(String),

    #[error("waiting for a dependency: {0}")]
    DependencyNotReady(String),

    #[error("serialization error: {0}")]
    Serialization(#[from] serde_json::Error),

    #[error("leader election: {0}")]
    LeaderElection(String),

    /// The admin server (health, readiness, metrics) could not start.
    #[error("admin server: {0}")]
    Admin(String),

    #[error("finalizer error: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),

    /// A request whose ECS token bucket is empty ([`crate::ecs::budget`]): nothing was sent; the
    /// reconcile comes back after `wait` instead of holding a worker.
    #[error("ECS {operation} deferred for {wait:?}: the operator's request budget is spent")]
    Deferred {
        operation: &'static str,
        wait: Duration,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The code of an ECS call the SDK could not even build: nothing reached ECS.
pub(crate) const CONSTRUCTION_FAILURE: &str = "ConstructionFailure";

/// The AWS service an operation of the access layer belongs to, as messages name it: EventBridge
/// Scheduler for the schedule operations (EcsScheduledTask), Application Auto Scaling for the
/// scaling operations (EcsService spec.autoscaling), ECS for all others.
pub fn service_of(operation: &str) -> &'static str {
    if operation.ends_with("Schedule") {
        "EventBridge Scheduler"
    } else if AUTOSCALING_OPERATIONS.contains(&operation) {
        "Application Auto Scaling"
    } else {
        "ECS"
    }
}

/// The Application Auto Scaling operations the operator calls.
const AUTOSCALING_OPERATIONS: [&str; 9] = [
    "DescribeScalableTargets",
    "DescribeScalingPolicies",
    "DescribeScheduledActions",
    "RegisterScalableTarget",
    "DeregisterScalableTarget",
    "PutScalingPolicy",
    "DeleteScalingPolicy",
    "PutScheduledAction",
    "DeleteScheduledAction",
];

/// The one sentence an ECS error reads as. Retried failures name no code (the condition's reason
/// carries it) and say that they are retried; refusals keep ECS's code and message, which say what
/// to change.
fn ecs_sentence(operation: &str, code: &str, message: &str, class: EcsErrorClass) -> String {
    let service = service_of(operation);
    let coded = if message.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {message}")
    };
    match class {
        EcsErrorClass::Throttled | EcsErrorClass::Transient => {
            let detail = if message.is_empty() { code } else { message };
            format!(
                "{service} {operation} failed: {}; retrying",
                detail.trim_end_matches('.')
            )
        }
        _ if code == CONSTRUCTION_FAILURE => {
            format!("could not build the {service} {operation} request: {message}")
        }
        EcsErrorClass::Invalid | EcsErrorClass::AccessDenied => {
            format!("{service} {operation} refused the request: {coded}")
        }
        EcsErrorClass::NotFound => format!("{service} {operation} failed: {coded}"),
    }
}

impl From<kube::Error> for Error {
    fn from(error: kube::Error) -> Self {
        Error::Kube(error)
    }
}

impl Error {
    /// ECS answered a successful call without the object it should carry.
    pub fn empty_response(operation: &'static str) -> Self {
        Error::Ecs {
            operation,
            code: "EmptyResponse".into(),
            message: "ECS answered without the expected object".into(),
            class: EcsErrorClass::Transient,
        }
    }

    /// Stable CamelCase label: the metrics label, and the reason of Warning events and conditions.
    /// For ECS errors that is the AWS error code, so users can search for it; where the answer
    /// carried none (a 5xx HTML page from a load balancer or proxy, an empty body) it is
    /// `HttpError<status>` (`HttpError502`), never a label made from text that varies.
    pub fn label(&self) -> String {
        match self {
            Error::Kube(_) => "KubeError".into(),
            Error::Ecs { code, .. } => code.clone(),
            Error::InvalidSpec(_) => "InvalidSpec".into(),
            Error::OwnershipConflict(_) => "OwnershipConflict".into(),
            Error::DependencyNotReady(_) => "DependencyNotReady".into(),
            Error::Serialization(_) => "SerializationError".into(),
            Error::LeaderElection(_) => "LeaderElection".into(),
            Error::Admin(_) => "AdminServer".into(),
            Error::Deferred { .. } => "Deferred".into(),
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.label(),
                _ => "FinalizerError".into(),
            },
        }
    }

    /// The error behind a finalizer wrapper, if any.
    pub fn inner(&self) -> &Error {
        match self {
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.inner(),
                _ => self,
            },
            other => other,
        }
    }

    /// True when retrying cannot help without a change of spec, IAM or ownership: the object is
    /// Stalled and a Warning event tells the user what to do.
    pub fn is_stalled(&self) -> bool {
        match self.inner() {
            Error::InvalidSpec(_) | Error::OwnershipConflict(_) => true,
            Error::Ecs { class, .. } => {
                matches!(class, EcsErrorClass::Invalid | EcsErrorClass::AccessDenied)
            }
            _ => false,
        }
    }

    /// How long to wait before the next attempt. Errors that need a user's change retry slowly
    /// (a spec change triggers a reconcile at once anyway); transient ones sooner.
    pub fn requeue_after(&self) -> Duration {
        match self.inner() {
            Error::Deferred { wait, .. } => *wait,
            Error::DependencyNotReady(_) => Duration::from_secs(30),
            Error::Ecs {
                class: EcsErrorClass::Throttled,
                ..
            } => Duration::from_secs(20),
            e if e.is_stalled() => Duration::from_secs(300),
            _ => Duration::from_secs(10),
        }
    }
}
