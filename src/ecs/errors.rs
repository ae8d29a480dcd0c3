//! AWS errors into the operator's Error: what to retry, what needs a user's change.

use std::io::ErrorKind;

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{ConnectorError, ProvideErrorMetadata, SdkError};

use crate::Error;
use crate::error::{CONSTRUCTION_FAILURE, EcsErrorClass};

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
    // Application Auto Scaling: "The specified object could not be found" (a target, a policy).
    "ObjectNotFoundException",
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
    // Application Auto Scaling: "Concurrent updates caused an exception, for example, if you
    // request an update to an Application Auto Scaling resource that already has a pending
    // update", and its 500 (API reference, Common errors of each action).
    "ConcurrentUpdateException",
    "InternalServiceException",
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

/// The operator's Error for a failed SDK call. Its message is a short sentence that stays the same
/// for the same failure on every retry: it goes into the Ready condition and the Warning event, and
/// a message that changed every time (a request id, a Date header, the SDK's debug dump of the raw
/// response) would rewrite status and publish an event on every retry.
///
/// | SDK error | code (the label) | message |
/// |---|---|---|
/// | ECS error with an AWS code | the code | ECS's own message, one line |
/// | throttling code | the code | `ECS throttled the request (<ECS message>)` |
/// | response that is no AWS error (HTML from a proxy, empty body) | `HttpError<status>` | `HTTP 502 Bad Gateway` |
/// | success status, body unreadable | `UnreadableResponse` | `HTTP 200 OK, but the body is not an ECS answer` |
/// | timeout | `Timeout` | `no answer from ECS within the timeout` |
/// | no connection | `DispatchFailure` | `could not reach the ECS endpoint (connection refused)` |
/// | request not built | `ConstructionFailure` | the SDK's reason, one line |
pub(super) fn to_error<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let service = crate::error::service_of(operation);
    let (code, message, class) = match &error {
        SdkError::ServiceError(context) => {
            service_error(service, context.err(), context.raw().status().as_u16())
        }
        SdkError::ResponseError(context) => http_error(context.raw().status().as_u16()),
        SdkError::TimeoutError(_) => (
            "Timeout".into(),
            format!("no answer from {service} within the timeout"),
            EcsErrorClass::Transient,
        ),
        SdkError::DispatchFailure(failure) => {
            let problem = failure.as_connector_error().and_then(connection_problem);
            let message = match problem {
                Some(problem) => format!("could not reach the {service} endpoint ({problem})"),
                None => format!("could not reach the {service} endpoint"),
            };
            ("DispatchFailure".into(), message, EcsErrorClass::Transient)
        }
        // Building the request failed (a value the SDK refused, no region): nothing was sent,
        // and the reason is the SDK's own fixed text.
        SdkError::ConstructionFailure(_) => (
            CONSTRUCTION_FAILURE.into(),
            one_line(&causes(&error)),
            EcsErrorClass::Invalid,
        ),
        _ => (
            "SdkError".into(),
            "the AWS SDK failed without a known reason".into(),
            EcsErrorClass::Transient,
        ),
    };
    Error::Ecs {
        operation,
        code,
        message,
        class,
    }
}

/// An error ECS answered: its code and message say what to fix, and are stable.
fn service_error(
    service: &str,
    error: &impl ProvideErrorMetadata,
    status: u16,
) -> (String, String, EcsErrorClass) {
    let Some(code) = error.code().map(str::trim).filter(|c| !c.is_empty()) else {
        // No AWS code: the answer came from something else than ECS's error handling.
        return http_error(status);
    };
    let message = one_line(error.message().unwrap_or_default());
    let class = classify(code, &message, Some(status));
    let message = if THROTTLING.contains(&code) {
        if message.is_empty() {
            format!("{service} throttled the request")
        } else {
            format!(
                "{service} throttled the request ({})",
                message.trim_end_matches('.')
            )
        }
    } else if message.is_empty() {
        status_line(status)
    } else {
        message
    };
    (code.to_string(), message, class)
}

/// A response that carries no AWS error: a proxy's HTML page, an empty body, a gateway timeout.
/// Only the status says something; ECS is not known to have judged the request, so it is retried
/// (429 as throttling).
fn http_error(status: u16) -> (String, String, EcsErrorClass) {
    if status < 400 {
        return (
            "UnreadableResponse".into(),
            format!("{}, but the body is not an ECS answer", status_line(status)),
            EcsErrorClass::Transient,
        );
    }
    let class = if status == 429 {
        EcsErrorClass::Throttled
    } else {
        EcsErrorClass::Transient
    };
    (format!("HttpError{status}"), status_line(status), class)
}

/// "HTTP 502 Bad Gateway": the status code and its reason phrase (RFC 9110), for the statuses
/// ECS, load balancers and proxies answer.
fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return format!("HTTP {status}"),
    };
    format!("HTTP {status} {reason}")
}

/// Why no connection came about, in words that do not change between attempts (no addresses, no
/// OS error numbers); None when the SDK does not say.
fn connection_problem(error: &ConnectorError) -> Option<&'static str> {
    if error.is_timeout() {
        return Some("timed out");
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = next {
        // hyper-util's fixed text for a failed name resolution.
        if cause.to_string() == "dns error" {
            return Some("DNS lookup failed");
        }
        if cause.is::<rustls::Error>() {
            return Some("TLS handshake failed");
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // An io::Error hides what it wraps from source(): look inside for TLS.
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return Some("TLS handshake failed");
            }
            match io.kind() {
                ErrorKind::ConnectionRefused => return Some("connection refused"),
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe => return Some("connection reset"),
                ErrorKind::UnexpectedEof => return Some("connection closed early"),
                ErrorKind::TimedOut => return Some("timed out"),
                _ => {}
            }
        }
        next = cause.source();
    }
    None
}

/// The error and its causes joined by ": ", without the Debug dump DisplayErrorContext appends
/// (which carries the raw response).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// The first line of a message, trimmed and capped: a condition message is one short sentence.
fn one_line(message: &str) -> String {
    const MAX_CHARS: usize = 300;
    let line = message
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    if line.chars().count() <= MAX_CHARS {
        line.to_string()
    } else {
        let cut: String = line.chars().take(MAX_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Whether an error `code` of `to_error` means ECS could not be reached at all (no answer in
/// time, or no connection), rather than an answer from ECS.
pub(super) fn unreachable(code: &str) -> bool {
    matches!(code, "Timeout" | "DispatchFailure")
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
    fn classifies_application_auto_scaling_error_codes() {
        assert_eq!(
            classify("ConcurrentUpdateException", "", Some(400)),
            EcsErrorClass::Transient
        );
        assert_eq!(
            classify("ObjectNotFoundException", "", Some(400)),
            EcsErrorClass::NotFound
        );
        // A quota or a value Application Auto Scaling refuses needs a spec change.
        assert_eq!(
            classify("LimitExceededException", "", Some(400)),
            EcsErrorClass::Invalid
        );
        assert_eq!(
            classify("ValidationException", "", Some(400)),
            EcsErrorClass::Invalid
        );
        // Its refusals name it, not ECS.
        let refused = Error::Ecs {
            operation: "PutScalingPolicy",
            code: "ValidationException".into(),
            message: "Invalid resource label".into(),
            class: EcsErrorClass::Invalid,
        };
        assert_eq!(
            refused.to_string(),
            "Application Auto Scaling PutScalingPolicy refused the request: ValidationException: \
             Invalid resource label"
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

    // What the SDK hands over, built as its orchestrator builds it (see `OrchestratorError::
    // into_sdk_error` in aws-smithy-runtime-api): an answer with no AWS error code becomes a
    // ResponseError carrying the raw response; a coded one a ServiceError.
    mod sdk {
        use aws_sdk_ecs::config::http::HttpResponse;
        use aws_sdk_ecs::error::{ConnectorError, ErrorMetadata, SdkError};
        use aws_sdk_ecs::operation::create_service::CreateServiceError;
        use aws_sdk_ecs::types::error::ClientException;
        use aws_smithy_types::body::SdkBody;

        pub type Failure = SdkError<CreateServiceError, HttpResponse>;

        /// A raw response with the headers that differ between two attempts.
        pub fn response(status: u16, body: &'static str, attempt: u32) -> HttpResponse {
            let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
            let headers = response.headers_mut();
            headers.insert("Date", format!("Mon, 02 Mar 2026 10:00:0{attempt} GMT"));
            headers.insert(
                "x-amzn-RequestId",
                format!("5f0c1a2b-0000-4000-8000-00000000000{attempt}"),
            );
            response
        }

        pub const HTML: &str = "<html><head><title>500 Internal Server Error</title></head>\n\
            <body><center><h1>500 Internal Server Error</h1></center></body></html>";

        /// A proxy's HTML page: the SDK cannot parse an error out of it.
        pub fn html(status: u16, attempt: u32) -> Failure {
            let parse = std::io::Error::other("expected value at line 1 column 1");
            SdkError::response_error(parse, response(status, HTML, attempt))
        }

        /// An error ECS answered in JSON, with its request id in the metadata as the SDK puts it.
        pub fn coded(status: u16, code: &str, message: &str, attempt: u32) -> Failure {
            let meta = ErrorMetadata::builder()
                .code(code)
                .message(message)
                .custom("request_id", format!("req-{attempt}"))
                .build();
            SdkError::service_error(
                CreateServiceError::generic(meta),
                response(status, "{}", attempt),
            )
        }

        pub fn client_exception(message: &str, attempt: u32) -> Failure {
            let meta = ErrorMetadata::builder()
                .code("ClientException")
                .message(message)
                .custom("request_id", format!("req-{attempt}"))
                .build();
            let error = ClientException::builder()
                .message(message)
                .meta(meta)
                .build();
            SdkError::service_error(
                CreateServiceError::ClientException(error),
                response(400, "{}", attempt),
            )
        }

        pub fn timeout() -> Failure {
            SdkError::timeout_error(
                "operation timeout (all attempts including retries) occurred after 30s",
            )
        }

        pub fn refused(attempt: u32) -> Failure {
            let io = std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                format!("connect to 10.0.0.{attempt}:443: Connection refused (os error 111)"),
            );
            SdkError::dispatch_failure(ConnectorError::io(io.into()))
        }
    }

    /// The message of the Error and of the condition built from it.
    fn texts(error: sdk::Failure) -> (Error, String) {
        let error = to_error("CreateService", error);
        let message = match crate::controller::health_from_error(&error) {
            crate::mapping::conditions::Health::Stalled { message, .. }
            | crate::mapping::conditions::Health::Retrying { message, .. }
            | crate::mapping::conditions::Health::Progressing { message, .. }
            | crate::mapping::conditions::Health::CheckFailed { message, .. }
            | crate::mapping::conditions::Health::Ready { message } => message,
        };
        (error, message)
    }

    /// Two attempts of one failure give the same short text, free of what varies per response.
    fn assert_stable(first: &(Error, String), second: &(Error, String)) {
        assert_eq!(first.0.to_string(), second.0.to_string());
        assert_eq!(first.1, second.1);
        assert_eq!(first.0.label(), second.0.label());
        for text in [first.0.to_string(), first.1.clone()] {
            for leak in [
                "Date",
                "GMT",
                "x-amzn-RequestId",
                "req-",
                "Response {",
                "os error",
                "10.0.0.",
            ] {
                assert!(!text.contains(leak), "{leak:?} in {text:?}");
            }
            assert!(text.len() < 200, "too long: {text:?}");
            assert!(!text.contains('\n'), "several lines: {text:?}");
        }
    }

    #[test]
    fn html_5xx_reads_as_its_status_and_is_retried() {
        let first = texts(sdk::html(500, 1));
        assert_stable(&first, &texts(sdk::html(500, 2)));
        assert_eq!(
            first.0.to_string(),
            "ECS CreateService failed: HTTP 500 Internal Server Error; retrying"
        );
        assert_eq!(first.0.label(), "HttpError500");
        assert!(!first.0.is_stalled());

        let bad_gateway = to_error("CreateService", sdk::html(502, 1));
        assert_eq!(
            bad_gateway.to_string(),
            "ECS CreateService failed: HTTP 502 Bad Gateway; retrying"
        );
        assert_eq!(bad_gateway.label(), "HttpError502");
        // A proxy's 403 page is no IAM verdict: retried, not Stalled.
        assert!(!to_error("CreateService", sdk::html(403, 1)).is_stalled());
    }

    #[test]
    fn answer_without_an_error_code_is_not_unknown_error() {
        // A JSON body without a code (API Gateway style) reaches us as a service error without one.
        let first = texts(sdk::coded(503, "", "", 1));
        assert_stable(&first, &texts(sdk::coded(503, "", "", 2)));
        assert_eq!(
            first.0.to_string(),
            "ECS CreateService failed: HTTP 503 Service Unavailable; retrying"
        );
        assert_eq!(first.0.label(), "HttpError503");
        let empty = to_error(
            "CreateService",
            sdk::Failure::response_error(std::io::Error::other("eof"), sdk::response(500, "", 1)),
        );
        assert!(!empty.to_string().contains("UnknownError"), "{empty}");
        assert!(!empty.to_string().contains(": ;"), "{empty}");
    }

    #[test]
    fn throttling_reads_as_a_throttle() {
        let first = texts(sdk::coded(400, "ThrottlingException", "Rate exceeded", 1));
        assert_stable(
            &first,
            &texts(sdk::coded(400, "ThrottlingException", "Rate exceeded", 2)),
        );
        assert_eq!(
            first.0.to_string(),
            "ECS CreateService failed: ECS throttled the request (Rate exceeded); retrying"
        );
        assert_eq!(first.0.label(), "ThrottlingException");
        assert_eq!(first.0.requeue_after(), std::time::Duration::from_secs(20));
    }

    #[test]
    fn server_exception_keeps_its_code_and_message() {
        let first = texts(sdk::coded(
            500,
            "ServerException",
            "Service Unavailable. Please try again later.",
            1,
        ));
        assert_stable(
            &first,
            &texts(sdk::coded(
                500,
                "ServerException",
                "Service Unavailable. Please try again later.",
                2,
            )),
        );
        assert_eq!(
            first.0.to_string(),
            "ECS CreateService failed: Service Unavailable. Please try again later; retrying"
        );
        assert_eq!(first.0.label(), "ServerException");
    }

    #[test]
    fn client_errors_keep_ecs_words_on_one_line() {
        let message = "The container web does not have a container port 80 defined.\n  (details)";
        let first = texts(sdk::client_exception(message, 1));
        assert_stable(&first, &texts(sdk::client_exception(message, 2)));
        assert_eq!(
            first.1,
            "ECS CreateService refused the request: ClientException: \
             The container web does not have a container port 80 defined."
        );
        assert_eq!(first.0.label(), "ClientException");
        assert!(first.0.is_stalled());
    }

    #[test]
    fn timeouts_and_unreachable_endpoints_read_the_same_every_time() {
        let timeout = texts(sdk::timeout());
        assert_stable(&timeout, &texts(sdk::timeout()));
        assert_eq!(
            timeout.1,
            "ECS CreateService failed: no answer from ECS within the timeout; retrying"
        );
        assert_eq!(timeout.0.label(), "Timeout");

        let refused = texts(sdk::refused(1));
        assert_stable(&refused, &texts(sdk::refused(2)));
        assert_eq!(
            refused.1,
            "ECS CreateService failed: could not reach the ECS endpoint (connection refused); retrying"
        );
        assert_eq!(refused.0.label(), "DispatchFailure");
        assert!(!refused.0.is_stalled());
    }

    #[test]
    fn scheduler_calls_name_eventbridge_scheduler() {
        let refused = to_error(
            "CreateSchedule",
            sdk::client_exception("Invalid Schedule Expression", 1),
        );
        assert_eq!(
            refused.to_string(),
            "EventBridge Scheduler CreateSchedule refused the request: ClientException: \
             Invalid Schedule Expression"
        );
        let timeout = to_error("GetSchedule", sdk::timeout());
        assert_eq!(
            timeout.to_string(),
            "EventBridge Scheduler GetSchedule failed: no answer from EventBridge Scheduler \
             within the timeout; retrying"
        );
    }

    #[test]
    fn long_messages_are_capped() {
        let long = "x".repeat(1000);
        let error = to_error("CreateService", sdk::client_exception(&long, 1));
        assert!(error.to_string().chars().count() < 400, "{error}");
    }

    /// The real SDK against a server that answers like a proxy in front of ECS: an HTML 500 with
    /// a Date and a request id that change on every answer.
    #[tokio::test]
    async fn real_client_reports_an_html_500_the_same_way_twice() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            for answer in 0u32.. {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = vec![0; 64 * 1024];
                let _ = stream.read(&mut request).await;
                let body = sdk::HTML;
                let reply = format!(
                    "HTTP/1.1 500 Internal Server Error\r\n\
                     Date: Mon, 02 Mar 2026 10:00:{:02} GMT\r\n\
                     x-amzn-RequestId: req-{answer}\r\n\
                     Content-Type: text/html\r\n\
                     Content-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    answer % 60,
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });

        let ecs = offline_ecs(&endpoint);
        let client = ecs.client("us-east-1");
        let mut messages = Vec::new();
        for _ in 0..2 {
            let result = ecs
                .call(
                    "us-east-1",
                    "DescribeClusters",
                    client.describe_clusters().send(),
                )
                .await;
            let error = result.expect_err("the server answers 500");
            assert_eq!(error.label(), "HttpError500");
            messages.push(error.to_string());
        }
        server.abort();
        assert_eq!(messages[0], messages[1]);
        assert_eq!(
            messages[0],
            "ECS DescribeClusters failed: HTTP 500 Internal Server Error; retrying"
        );
    }

    /// The real SDK against a port nobody listens on.
    #[tokio::test]
    async fn real_client_reports_a_refused_connection_the_same_way_twice() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);

        let ecs = offline_ecs(&endpoint);
        let client = ecs.client("us-east-1");
        let mut messages = Vec::new();
        for _ in 0..2 {
            let result = ecs
                .call(
                    "us-east-1",
                    "DescribeClusters",
                    client.describe_clusters().send(),
                )
                .await;
            messages.push(result.expect_err("nobody listens").to_string());
        }
        assert_eq!(messages[0], messages[1]);
        assert_eq!(
            messages[0],
            "ECS DescribeClusters failed: could not reach the ECS endpoint (connection refused); retrying"
        );
    }

    /// An `Ecs` that talks to `endpoint` with dummy credentials and makes one attempt per call.
    fn offline_ecs(endpoint: &str) -> crate::ecs::Ecs {
        use aws_sdk_ecs::config::retry::RetryConfig;
        use aws_sdk_ecs::config::{
            BehaviorVersion, Credentials, Region, SharedCredentialsProvider,
        };

        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .retry_config(RetryConfig::disabled())
            .build();
        crate::ecs::Ecs::new(
            config,
            std::sync::Arc::new(crate::runtime::metrics::Metrics::default()),
            std::time::Duration::from_secs(600),
        )
    }
}
