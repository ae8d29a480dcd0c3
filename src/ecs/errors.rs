//! AWS errors into the operator's Error: what to retry, what needs a user's change.

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};

use crate::Error;
use crate::error::EcsErrorClass;

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
];
const ACCESS_DENIED: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
];
const NOT_FOUND: &[&str] = &[
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ResourceNotFoundException",
];
const TRANSIENT: &[&str] = &[
    // The object is busy (a capacity provider update, a service being deleted): wait, retry.
    "UpdateInProgressException",
    "ServiceNotActiveException",
    "ServerException",
    "ServiceUnavailable",
    "InternalFailure",
    "RequestTimeout",
    // Credentials that expired between signing and arrival (or clock skew): the credential
    // provider refreshes them for the next attempt.
    "ExpiredTokenException",
    "RequestExpired",
];
/// ECS answers concurrent registrations of one family with a ClientException that only says so in
/// its message; it goes away on retry.
const CONCURRENT_REGISTRATION: &str = "Too many concurrent attempts";

/// Classifies an AWS error code (and the HTTP status when there is no code; the message where
/// ECS reuses a code for a transient condition).
pub fn classify(code: &str, message: &str, http_status: Option<u16>) -> EcsErrorClass {
    if THROTTLING.contains(&code)
        || http_status == Some(429)
        || message.contains(CONCURRENT_REGISTRATION)
    {
        EcsErrorClass::Throttled
    } else if ACCESS_DENIED.contains(&code) || http_status == Some(403) {
        EcsErrorClass::AccessDenied
    } else if NOT_FOUND.contains(&code) {
        EcsErrorClass::NotFound
    } else if TRANSIENT.contains(&code) || http_status.is_some_and(|s| s >= 500) {
        EcsErrorClass::Transient
    } else {
        // ClientException, InvalidParameterException, UnsupportedFeatureException, ...
        EcsErrorClass::Invalid
    }
}

pub(super) fn to_error<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, message, class) = match &error {
        SdkError::ServiceError(context) => {
            let err = context.err();
            let code = err.code().unwrap_or("UnknownError").to_string();
            let message = err.message().unwrap_or_default().to_string();
            let class = classify(&code, &message, Some(context.raw().status().as_u16()));
            (code, message, class)
        }
        SdkError::TimeoutError(_) => ("Timeout".into(), readable(&error), EcsErrorClass::Transient),
        SdkError::DispatchFailure(_) => (
            "DispatchFailure".into(),
            format!("could not reach ECS: {}", readable(&error)),
            EcsErrorClass::Transient,
        ),
        SdkError::ResponseError(_) => (
            "ResponseError".into(),
            readable(&error),
            EcsErrorClass::Transient,
        ),
        // Building the request failed: a value the SDK refused.
        _ => (
            "ConstructionFailure".into(),
            readable(&error),
            EcsErrorClass::Invalid,
        ),
    };
    Error::Ecs {
        operation,
        code,
        message,
        class,
    }
}

/// The error and its causes in one line, without the raw response (whose request id and date
/// would make every retry's message, and so its status write and event, different).
fn readable<E: std::error::Error + 'static>(error: &SdkError<E, HttpResponse>) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(error).to_string()
}

/// Every `outcome` label of `ecs_operator_ecs_api_calls_total`.
pub const CALL_OUTCOMES: [&str; 6] = [
    "success",
    "throttled",
    "transient_error",
    "client_error",
    "access_denied",
    "not_found",
];

pub(super) fn outcome_label(class: EcsErrorClass) -> &'static str {
    match class {
        EcsErrorClass::Throttled => "throttled",
        EcsErrorClass::Transient => "transient_error",
        EcsErrorClass::Invalid => "client_error",
        EcsErrorClass::AccessDenied => "access_denied",
        EcsErrorClass::NotFound => "not_found",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_label_is_listed() {
        use EcsErrorClass::*;
        for class in [Throttled, Transient, Invalid, AccessDenied, NotFound] {
            assert!(CALL_OUTCOMES.contains(&outcome_label(class)), "{class:?}");
        }
    }

    #[test]
    fn classifies_real_ecs_error_codes() {
        assert_eq!(
            classify("ThrottlingException", "", Some(400)),
            EcsErrorClass::Throttled
        );
        assert_eq!(classify("", "", Some(429)), EcsErrorClass::Throttled);
        assert_eq!(
            classify("AccessDeniedException", "", Some(400)),
            EcsErrorClass::AccessDenied
        );
        assert_eq!(
            classify("ClusterNotFoundException", "", Some(400)),
            EcsErrorClass::NotFound
        );
        assert_eq!(
            classify("ServerException", "", Some(500)),
            EcsErrorClass::Transient
        );
        assert_eq!(
            classify("Whatever", "", Some(503)),
            EcsErrorClass::Transient
        );
        assert_eq!(
            classify("ClientException", "", Some(400)),
            EcsErrorClass::Invalid
        );
        assert_eq!(
            classify("InvalidParameterException", "", Some(400)),
            EcsErrorClass::Invalid
        );
    }

    #[test]
    fn transient_conditions_ecs_reports_as_client_errors_are_retried() {
        // What ECS answers a second RegisterTaskDefinition of a family in flight.
        let concurrent =
            "Too many concurrent attempts to create a new revision of the specified family.";
        assert_eq!(
            classify("ClientException", concurrent, Some(400)),
            EcsErrorClass::Throttled
        );
        assert_eq!(
            classify(
                "ExpiredTokenException",
                "The security token included in the request is expired",
                Some(400)
            ),
            EcsErrorClass::Transient
        );
        assert_eq!(
            classify("UnrecognizedClientException", "", Some(400)),
            EcsErrorClass::AccessDenied
        );
    }

    #[test]
    fn client_errors_stall_and_transient_ones_retry() {
        let err = |class| Error::Ecs {
            operation: "CreateService",
            code: "X".into(),
            message: "m".into(),
            class,
        };
        assert!(err(EcsErrorClass::Invalid).is_stalled());
        assert!(err(EcsErrorClass::AccessDenied).is_stalled());
        assert!(!err(EcsErrorClass::Throttled).is_stalled());
        assert!(!err(EcsErrorClass::Transient).is_stalled());
    }
}
