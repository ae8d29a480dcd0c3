//! Service Connect, as in the ECS API: the endpoints a service offers, their test traffic rules
//! and TLS, and the proxy's logs.

use std::collections::BTreeMap;

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::null_as_default;

/// Service Connect configuration, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectConfiguration {
    /// Turn Service Connect on for this service.
    pub enabled: bool,
    /// Cloud Map namespace name or ARN. Defaults to the cluster's Service Connect namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Endpoints this service offers to the namespace. Empty: a client-only service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["portName".into()]))]
    pub services: Vec<ServiceConnectService>,
    /// Where the Service Connect proxy writes its logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<ServiceConnectLogConfiguration>,
    /// The proxy's access logs (written where logConfiguration sends logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_configuration: Option<ServiceConnectAccessLogConfiguration>,
}

/// A Service Connect endpoint, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectService {
    /// Name of a port mapping in the task definition.
    pub port_name: String,
    /// Name registered in Cloud Map. Defaults to portName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_name: Option<String>,
    /// Names and ports clients use. Empty: the discovery name and container port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["port".into()]))]
    pub client_aliases: Vec<ServiceConnectClientAlias>,
    /// Port the Service Connect proxy listens on. Defaults to the container port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 65535").message("ingressPortOverride is between 1 and 65535"))]
    pub ingress_port_override: Option<i32>,
    /// TLS between Service Connect proxies, with a certificate from AWS Private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServiceConnectTlsConfiguration>,
}

/// TLS of a Service Connect endpoint, as in the ECS API (ServiceConnectTlsConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectTlsConfiguration {
    /// The AWS Private CA that issues the certificates.
    pub issuer_certificate_authority: ServiceConnectTlsCertificateAuthority,
    /// KMS key (ARN) that encrypts the private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// ARN of the IAM role ECS manages the certificates with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// The certificate authority of Service Connect TLS, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectTlsCertificateAuthority {
    /// ARN of the AWS Private CA.
    pub aws_pca_authority_arn: String,
}

/// Which requests go to the new revision as test traffic during a BLUE_GREEN, LINEAR or CANARY
/// deployment, as in the ECS API (ServiceConnectTestTrafficRules).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectTestTrafficRules {
    /// Requests carrying this header are test traffic.
    pub header: ServiceConnectTestTrafficHeaderRules,
}

/// A header that marks test traffic, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectTestTrafficHeaderRules {
    /// Header name.
    pub name: String,
    /// The value to match; absent: any value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ServiceConnectTestTrafficHeaderMatchRules>,
}

/// How a test traffic header value matches, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectTestTrafficHeaderMatchRules {
    /// The exact value.
    pub exact: String,
}

/// Access logs of the Service Connect proxy, as in the ECS API
/// (ServiceConnectAccessLogConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectAccessLogConfiguration {
    /// TEXT or JSON.
    #[schemars(extend("enum" = ["TEXT", "JSON"]))]
    pub format: String,
    /// ENABLED or DISABLED (the default): log query strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED"]))]
    pub include_query_parameters: Option<String>,
}

/// A Service Connect client alias, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectClientAlias {
    /// Port clients connect to.
    #[x_kube(validation = Rule::new("self >= 1 && self <= 65535").message("port is between 1 and 65535"))]
    pub port: i32,
    /// DNS name clients use. Defaults to `<discoveryName>.<namespace>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    /// Requests through this alias that go to the new revision as test traffic during a
    /// BLUE_GREEN, LINEAR or CANARY deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_traffic_rules: Option<ServiceConnectTestTrafficRules>,
}

/// Log configuration of the Service Connect proxy, as in the ECS API (`logConfiguration`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectLogConfiguration {
    /// awslogs, awsfirelens, fluentd, gelf, journald, json-file, splunk or syslog.
    #[schemars(extend("enum" = ["awslogs", "awsfirelens", "fluentd", "gelf", "journald", "json-file", "splunk", "syslog"]))]
    pub log_driver: String,
    /// Options of the log driver, for example `awslogs-group`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub options: BTreeMap<String, String>,
    /// Log driver options read from Secrets Manager or SSM Parameter Store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub secret_options: Vec<ServiceConnectSecret>,
}

/// A secret log driver option, as in the ECS API (`name`/`valueFrom`).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectSecret {
    /// Option name.
    pub name: String,
    /// ARN of the Secrets Manager secret or SSM parameter.
    pub value_from: String,
}
