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

    #[error("ECS {operation} failed: {code}: {message}")]
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

    #[error("finalizer error: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// For ECS errors that is the AWS error code, so users can search for it.
    pub fn label(&self) -> String {
        match self {
            Error::Kube(_) => "KubeError".into(),
            Error::Ecs { code, .. } => code.clone(),
            Error::InvalidSpec(_) => "InvalidSpec".into(),
            Error::OwnershipConflict(_) => "OwnershipConflict".into(),
            Error::DependencyNotReady(_) => "DependencyNotReady".into(),
            Error::Serialization(_) => "SerializationError".into(),
            Error::LeaderElection(_) => "LeaderElection".into(),
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
